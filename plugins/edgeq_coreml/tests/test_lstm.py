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


def test_lstm_kernel_matches_onnxruntime(tmp_path):
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    path, w, r, b = _onnx_lstm(tmp_path, rng)
    feed = _feeds(rng, 1)[0]
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)

    def mil_order(m):  # ONNX stacks the gates i, o, f, c; MIL i, f, o, c
        i, o, f, c = np.split(m, 4, axis=0)
        return np.concatenate([i, f, o, c], axis=0)

    y, h, c = OPS.lookup(_Op())(_Op(), {
        "x": feed["X"], "initial_h": feed["h0"][0], "initial_c": feed["c0"][0],
        "weight_ih": mil_order(w), "weight_hh": mil_order(r),
        "bias": mil_order(b[:4 * HID] + b[4 * HID:]), "direction": "forward", "output_sequence": True,
        "recurrent_activation": "sigmoid", "cell_activation": "tanh", "activation": "tanh"}, None)
    np.testing.assert_allclose(y, ref[0][:, 0], atol=1e-5)
    np.testing.assert_allclose(h, ref[1][0], atol=1e-5)
    np.testing.assert_allclose(c, ref[2][0], atol=1e-5)


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
