"""The QDQ emitter against edgeq's integer simulator, on onnxruntime-qnn's HTP emulator
with the CPU fallback disabled: each single quantized op must agree within 1 LSB (2 for
Mul, whose HTP rounding differs, docs/targets/qnn.md), and every quantization parameter
in the emitted model must be edgeq's, shifted to QNN's unsigned storage."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import numpy_helper

from edgeq.sdk import run_quantized
from edgeq_qnn.emit.qdq import export_qdq
from edgeq_qnn.runners.session import htp_session
from edgeq_qnn.tests.qgraphs import single_op_graph

OPS = {"conv": 1, "conv_relu6_clamped": 1, "depthwise": 1, "add": 1, "mul": 2, "fc": 1,
       "global_average_pool": 1, "sigmoid": 1, "tanh": 1, "softmax": 1, "hard_swish": 1, "max_pool": 1}


def _lsb_diff(b, seed=1):
    g = b.g
    exp = export_qdq(g)
    s = htp_session(exp.model.SerializeToString(), htp_arch=75)
    feed = b.feed(seed)
    got = dict(zip([o.name for o in s.get_outputs()], s.run(None, feed)))
    sim = run_quantized(g, feed)
    (out,) = g.outputs
    q = g.tensors[g.producers()[out].inputs[0]].quant
    return np.round((got[out] - sim[out]) / q.scale[0]), exp


@pytest.mark.parametrize("op", sorted(OPS))
def test_single_op_matches_simulator_on_htp(op):
    diff, _ = _lsb_diff(single_op_graph(op))
    assert np.abs(diff).max() <= OPS[op], (op, np.abs(diff).max())
    # most values are identical: HTP's requantization differs on ties only
    assert np.mean(diff != 0) < 0.06, (op, np.mean(diff != 0))


def test_every_quantization_parameter_is_edgeqs():
    b = single_op_graph("conv")
    g = b.g
    _, exp = _lsb_diff(b)
    inits = {i.name: numpy_helper.to_array(i) for i in exp.model.graph.initializer}
    qdq = [n for n in exp.model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
    assert qdq
    seen = set()
    for n in qdq:
        scale, zp = inits[n.input[1]], inits[n.input[2]]
        name = n.input[1][: -len("__scale")]
        t = g.tensors[name]
        np.testing.assert_array_equal(scale.reshape(-1), t.quant.scale)
        if t.data is not None and name.startswith("w"):  # weights stay int8 symmetric
            assert zp.dtype == np.int8 and not zp.any()
        elif t.quant.dtype.value == "int32":
            assert zp.dtype == np.int32 and not zp.any()
        else:  # int8 activations -> uint8, zero point + 128
            assert zp.dtype == np.uint8
            np.testing.assert_array_equal(zp.reshape(-1).astype(np.int64), t.quant.zero_point + 128)
        seen.add(name)
    assert {"x", "y"} & seen == set()  # boundary floats are not quantized tensors
    assert len(seen) == 4  # input, weight, bias, output
    enc = exp.encodings
    out_q = next(t for t in g.tensors.values() if t.data is None and t.quant is not None and
                 t.name != "t_1" and t.quant.scale.size == 1)
    assert enc[out_q.name]["offset"] == [-(int(out_q.quant.zero_point[0]) + 128)]


def test_redundant_relu6_emits_no_clip_but_a_needed_one_does():
    from edgeq_qnn.tests.qgraphs import QGraph, qp

    b = QGraph()
    x = b.input((1, 8, 8, 8), qp(2 / 255, -1))
    w = b.weight((8, 8, 1, 1), per_channel=True)
    # output range [0, 6] exactly: ReLU6 is the saturation of the uint8 output itself
    y = b.op("Conv", [x, w, b.bias(8, x, w)], (1, 8, 8, 8), qp(6 / 255, -128), kernel_shape=[1, 1],
             group=1, act_min=0.0, act_max=6.0)
    b.output(y)
    exp = export_qdq(b.g)
    assert "Clip" not in exp.op_histogram and "Relu" not in exp.op_histogram
    exp2 = export_qdq(single_op_graph("conv_relu6_clamped").g)
    assert exp2.op_histogram.get("Clip") == 1


def _fc_graph(per_channel: bool, shape=(1, 64)):
    """x -> FullyConnected (output rows whose weights span 0.01 .. 1.0) -> y, quantized
    with per-channel or per-tensor weights from the same float weights."""
    from edgeq.sdk import QDType, QuantParams
    from edgeq_qnn.tests.qgraphs import QGraph, qp

    b = QGraph(seed=3)
    n_in, n_out = shape[-1], 64
    x = b.input(shape, qp(2 / 255, -1))
    row_scale = np.geomspace(0.01, 1.0, n_out)[:, None]
    w = b.rng.normal(0, 1, (n_out, n_in)) * row_scale
    if per_channel:
        s = np.abs(w).max(axis=1) / 127.0
        wq = QuantParams(s.astype(np.float32), np.zeros(n_out, np.int64), QDType.INT8, 0)
        data = np.round(w / s[:, None])
    else:
        s = np.array([np.abs(w).max() / 127.0])
        wq = QuantParams(s.astype(np.float32), np.zeros(1, np.int64), QDType.INT8)
        data = np.round(w / s[0])
    wn = b.const(data.astype(np.int8), wq, "w")
    y = b.op("FullyConnected", [x, wn, b.bias(n_out, x, wn)], (*shape[:-1], n_out), qp(0.02, 0))
    b.output(y)
    return b, w


@pytest.mark.parametrize("shape", [(1, 64), (1, 6, 64)])
def test_per_channel_fully_connected_runs_as_1x1_conv_and_matches_simulator(shape):
    """A per-channel FullyConnected is a 1x1 Conv with per-axis weights on HTP: it
    follows the simulator within 1 LSB and keeps the small rows that one scale loses."""
    b, w_float = _fc_graph(True, shape)
    diff, exp = _lsb_diff(b)
    assert exp.op_histogram.get("Conv") == 1 and "Gemm" not in exp.op_histogram
    # 1 LSB, well inside the target's int8 tolerance (4); HTP rounds some ties of its
    # per-channel requantization differently (measured: 9 % of these values)
    assert np.abs(diff).max() <= 1 and np.mean(diff != 0) < 0.15, (np.abs(diff).max(), np.mean(diff != 0))
    (wname,) = [n.inputs[1] for n in b.g.nodes if n.op_type == "FullyConnected"]
    assert len(exp.encodings[wname]["scale"]) == 64 and exp.encodings[wname]["axis"] == 0
    conv = next(n for n in exp.model.graph.node if n.op_type == "Conv")
    inits = {i.name: numpy_helper.to_array(i) for i in exp.model.graph.initializer}
    dq = {n.output[0]: n for n in exp.model.graph.node if n.op_type == "DequantizeLinear"}
    w_dq, b_dq = dq[conv.input[1]], dq[conv.input[2]]
    assert inits[w_dq.input[0]].shape == (64, 64, 1, 1) and inits[w_dq.input[1]].shape == (64,)
    assert next(a.i for a in w_dq.attribute if a.name == "axis") == 0
    assert inits[b_dq.input[1]].shape == (64,)  # per-axis bias next to per-axis weights

    # every node on QNN, and per-tensor weights lose the small rows visibly
    from edgeq_qnn.runners.session import htp_session
    feed = b.feed(1)
    x = feed["x"].reshape(-1, 64).astype(np.float64)
    xq = np.clip(np.round(x / (2 / 255)) - 1, -128, 127) + 1  # the input's real values / scale
    ref = (xq * (2 / 255)) @ w_float.T
    errs = {}
    for pc in (True, False):
        bb, _ = _fc_graph(pc, shape)
        s = htp_session(export_qdq(bb.g).model.SerializeToString(), htp_arch=75)
        got = s.run(None, feed)[0].reshape(-1, 64).astype(np.float64)
        bias = bb.g.tensors[[n.inputs[2] for n in bb.g.nodes if n.op_type == "FullyConnected"][0]]
        want = ref + bias.data * bias.quant.scale
        errs[pc] = np.abs(got - want)[:, :16].mean()  # the 16 smallest rows
    assert errs[True] * 2 < errs[False], errs


def test_per_channel_fully_connected_encodings_are_per_channel(tmp_path):
    from edgeq_qnn.emit.encodings import aimet_encodings

    b, _ = _fc_graph(True)
    exp = export_qdq(b.g)
    fc = next(n for n in b.g.nodes if n.op_type == "FullyConnected")
    enc = aimet_encodings(exp.encodings, set(fc.inputs[1:]))
    w = enc["param_encodings"][fc.inputs[1]]
    assert len(w) == 64 and all(e["offset"] == 0 and e["is_symmetric"] == "True" for e in w)
    np.testing.assert_allclose([e["scale"] for e in w], b.g.tensors[fc.inputs[1]].quant.scale, rtol=1e-7)
    assert len(enc["param_encodings"][fc.inputs[2]]) == 64
