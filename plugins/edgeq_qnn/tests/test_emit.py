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


def test_per_channel_fully_connected_is_refused_naming_the_node():
    from edgeq.sdk import UnsupportedOpError
    from edgeq_qnn.tests.qgraphs import QGraph, qp

    b = QGraph()
    x = b.input((1, 16), qp(2 / 255, -1))
    w = b.weight((4, 16), per_channel=True)
    y = b.op("FullyConnected", [x, w, b.bias(4, x, w)], (1, 4), qp(0.1, 0))
    b.output(y)
    with pytest.raises(UnsupportedOpError, match="fullyconnected.*per channel"):
        export_qdq(b.g)
