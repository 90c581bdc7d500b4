"""LSTMs on the ane target: one MIL ``lstm`` with int8 weights (the quantizer's fused
IntegerLSTM), or the unrolled cell ops with ``unroll_lstm: true``; the program
interpreter's ``lstm`` kernel against onnxruntime's ONNX LSTM."""

from __future__ import annotations

import os

import numpy as np
import pytest
from onnx import TensorProto, helper

import edgeq
from edgeq.targets import get_target

from edgeq_coreml.verify import load_program
from edgeq_coreml.verify.ops import OPS

pytest.importorskip("coremltools")

SEQ, BATCH, INP, HID = 7, 1, 5, 6


def _onnx_lstm(tmp_path, rng):
    w = (rng.normal(size=(1, 4 * HID, INP)) * 0.5).astype(np.float32)
    r = (rng.normal(size=(1, 4 * HID, HID)) * 0.5).astype(np.float32)
    b = (rng.normal(size=(1, 8 * HID)) * 0.2).astype(np.float32)
    inits = [helper.make_tensor(n, TensorProto.FLOAT, a.shape, a.ravel()) for n, a in (("W", w), ("R", r), ("B", b))]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "h0", "c0"], ["Y", "Yh", "Yc"], hidden_size=HID)
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([node], "lstm", [vi("X", TensorProto.FLOAT, [SEQ, BATCH, INP]),
                                               vi("h0", TensorProto.FLOAT, [1, BATCH, HID]),
                                               vi("c0", TensorProto.FLOAT, [1, BATCH, HID])],
                              [vi("Y", TensorProto.FLOAT, [SEQ, 1, BATCH, HID]),
                               vi("Yh", TensorProto.FLOAT, [1, BATCH, HID]),
                               vi("Yc", TensorProto.FLOAT, [1, BATCH, HID])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    path = tmp_path / "lstm.onnx"
    path.write_bytes(model.SerializeToString())
    return path, w[0], r[0], b[0]


def _feeds(rng, n):
    return [{"X": rng.normal(size=(SEQ, BATCH, INP)).astype(np.float32),
             "h0": (rng.normal(size=(1, BATCH, HID)) * 0.5).astype(np.float32),
             "c0": (rng.normal(size=(1, BATCH, HID)) * 0.5).astype(np.float32)} for _ in range(n)]


class _Op:
    op_type = name = "lstm"


def _onnx_session(rng, direction: str, peephole: bool, acts: list[str]):
    """onnxruntime's ONNX LSTM with random weights, and those weights (per direction)."""
    import onnxruntime as ort

    dirs = 2 if direction == "bidirectional" else 1
    arrays = {"W": rng.normal(size=(dirs, 4 * HID, INP)) * 0.5, "R": rng.normal(size=(dirs, 4 * HID, HID)) * 0.5,
              "B": rng.normal(size=(dirs, 8 * HID)) * 0.2}
    names = ["X", "W", "R", "B", "", "h0", "c0"]
    if peephole:
        arrays["P"] = rng.normal(size=(dirs, 3 * HID)) * 0.5
        names.append("P")
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    inits = [helper.make_tensor(n, TensorProto.FLOAT, a.shape, a.ravel()) for n, a in arrays.items()]
    node = helper.make_node("LSTM", names, ["Y", "Yh", "Yc"], hidden_size=HID, direction=direction,
                            activations=acts * dirs)
    vi = helper.make_tensor_value_info
    graph = helper.make_graph([node], "lstm", [vi("X", TensorProto.FLOAT, [SEQ, BATCH, INP]),
                                               vi("h0", TensorProto.FLOAT, [dirs, BATCH, HID]),
                                               vi("c0", TensorProto.FLOAT, [dirs, BATCH, HID])],
                              [vi("Y", TensorProto.FLOAT, [SEQ, dirs, BATCH, HID]),
                               vi("Yh", TensorProto.FLOAT, [dirs, BATCH, HID]),
                               vi("Yc", TensorProto.FLOAT, [dirs, BATCH, HID])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]), arrays


def _mil_gates(m):
    """ONNX stacks the gates i, o, f, c (peepholes i, o, f); MIL i, f, o, c (i, f, o)."""
    parts = np.split(m, m.shape[0] // HID, axis=0)
    i, o, f, *c = parts
    return np.concatenate([i, f, o, *c], axis=0)


@pytest.mark.parametrize("direction, peephole, acts", [
    ("forward", False, ["Sigmoid", "Tanh", "Tanh"]),
    ("reverse", True, ["Sigmoid", "Tanh", "Tanh"]),
    ("bidirectional", True, ["Sigmoid", "Tanh", "Tanh"]),
    ("forward", True, ["Sigmoid", "Relu", "Relu"]),
])
def test_lstm_kernel_matches_onnxruntime(direction, peephole, acts):
    rng = np.random.default_rng(0)
    sess, a = _onnx_session(rng, direction, peephole, acts)
    dirs = 2 if direction == "bidirectional" else 1
    feed = {"X": rng.normal(size=(SEQ, BATCH, INP)).astype(np.float32),
            "h0": (rng.normal(size=(dirs, BATCH, HID)) * 0.5).astype(np.float32),
            "c0": (rng.normal(size=(dirs, BATCH, HID)) * 0.5).astype(np.float32)}
    ref_y, ref_h, ref_c = sess.run(None, feed)
    inputs = {"x": feed["X"], "initial_h": np.concatenate(list(feed["h0"]), axis=-1),
              "initial_c": np.concatenate(list(feed["c0"]), axis=-1), "direction": direction,
              "output_sequence": True, "recurrent_activation": "sigmoid",
              "cell_activation": acts[1].lower(), "activation": acts[2].lower()}
    for d, suffix in enumerate(["", "_back"][:dirs]):
        inputs["weight_ih" + suffix] = _mil_gates(a["W"][d])
        inputs["weight_hh" + suffix] = _mil_gates(a["R"][d])
        inputs["bias" + suffix] = _mil_gates(a["B"][d][:4 * HID] + a["B"][d][4 * HID:])
        if peephole:
            inputs["peephole" + suffix] = _mil_gates(a["P"][d])
    y, h, c = OPS.lookup(_Op())(_Op(), inputs, None)
    # ONNX: Y[s, dirs, b, H], Y_h[dirs, b, H]; MIL: y[s, b, dirs*H], h[b, dirs*H]
    np.testing.assert_allclose(y, np.concatenate(list(np.moveaxis(ref_y, 1, 0)), axis=-1), atol=1e-5)
    np.testing.assert_allclose(h, np.concatenate(list(ref_h), axis=-1), atol=1e-5)
    np.testing.assert_allclose(c, np.concatenate(list(ref_c), axis=-1), atol=1e-5)


def test_lstm_kernel_clips_the_cell_state_and_refuses_undefined_activations():
    from edgeq.sdk import UnsupportedOpError

    rng = np.random.default_rng(3)
    base = {"x": rng.normal(size=(SEQ, BATCH, INP)) * 3, "initial_h": np.zeros((BATCH, HID)),
            "initial_c": np.full((BATCH, HID), 2.0), "weight_ih": rng.normal(size=(4 * HID, INP)),
            "weight_hh": rng.normal(size=(4 * HID, HID)), "bias": np.full(4 * HID, 2.0), "output_sequence": True}
    kernel = OPS.lookup(_Op())
    _, _, free = kernel(_Op(), base, None)
    _, _, clipped = kernel(_Op(), {**base, "clip": np.float32(0.5)}, None)
    assert np.abs(free).max() > 0.5 and np.abs(clipped).max() <= 0.5 + 1e-6
    # a clip above every cell value changes nothing
    _, _, loose = kernel(_Op(), {**base, "clip": np.float32(1e6)}, None)
    np.testing.assert_array_equal(loose, free)
    with pytest.raises(UnsupportedOpError, match="'hard_sigmoid' has parameters"):
        kernel(_Op(), {**base, "recurrent_activation": "hard_sigmoid"}, None)


def _build(tmp_path, path, feeds, unroll: bool):
    from edgeq.sdk import emit_atomically

    rt = get_target("ane", {"unroll_lstm": unroll})
    qm = edgeq.quantize(edgeq.load(path), feeds, spec=rt.spec, progress=False,
                        cache_dir=str(tmp_path / "cache"))
    art = emit_atomically(rt.target, qm, tmp_path / f"ane-{unroll}", rt.build_options())
    return qm, art


def _package_bytes(art) -> int:
    root = art.path / "model.mlpackage"
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def test_fused_lstm_is_one_op_with_int8_weights_and_matches_fp32(tmp_path):
    from edgeq.targets import get_runner

    rng = np.random.default_rng(1)
    path, *_ = _onnx_lstm(tmp_path, rng)
    feeds = _feeds(rng, 16)
    qm, art = _build(tmp_path, path, feeds, unroll=False)
    assert qm.graph.op_histogram().get("IntegerLSTM") == 1
    ops = [op.op_type for op in load_program(art.path / "model.mlpackage").operations]
    assert ops.count("lstm") == 1 and ops.count("constexpr_affine_dequantize") == 2
    assert "sigmoid" not in ops  # no unrolled gate
    assert any(row["rule"] == "rnn" for row in art.manifest["ane_preflight"]["ops"])
    _, unrolled = _build(tmp_path, path, feeds, unroll=True)
    uops = [op.op_type for op in load_program(unrolled.path / "model.mlpackage").operations]
    assert "lstm" not in uops and uops.count("sigmoid") >= 3 * SEQ
    assert _package_bytes(art) < _package_bytes(unrolled)
    runner = get_runner("host", get_target("ane"))
    model = edgeq.load(path)
    for feed in _feeds(rng, 3):
        ref, got = model.run(feed), runner.run(art, feed)
        for name in ("Y", "Yh", "Yc"):
            np.testing.assert_allclose(got[name], ref[name], atol=0.08, err_msg=name)


def test_unroll_lstm_is_a_generic_profile_switch():
    assert "LSTM" in get_target("ane").spec.fused_ops
    assert "LSTM" not in get_target("ane", {"unroll_lstm": True}).spec.fused_ops
    assert "LSTM" in get_target("tflite").spec.fused_ops
    assert "LSTM" not in get_target("tflite", {"unroll_lstm": True}).spec.fused_ops
