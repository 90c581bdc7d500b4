"""I/O options (float, int8, uint8 at the boundary) and the plain FP32 / FP16 exports."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import UsageError
from edgeq.sdk import run_graph
from edgeq.sdk import run_quantized
from edgeq.sdk import executable

from edgeq_tflite.emit.export import export_float, export_quantized
from edgeq_tflite.emit.schema import schema
from edgeq_tflite.tests.harness import integer_feeds, litert


def _run(exp, feeds, reference=True):
    return litert(exp.model, feeds, exp.inputs, exp.outputs, reference=reference)


def test_float_io_matches_simulator(cnn):
    exp = export_quantized(cnn.graph, io_dtype="float32")
    assert exp.inputs[0].dtype == "float32" and exp.outputs[0].dtype == "float32"
    hist = exp.op_histogram
    assert hist["QUANTIZE"] == 1 and hist["DEQUANTIZE"] == 1
    got = _run(exp, cnn.feeds[0])
    sim = run_quantized(cnn.graph, cnn.feeds[0])
    for name, v in sim.items():  # QUANTIZE/DEQUANTIZE rounding identical to the simulator's
        np.testing.assert_allclose(got[name], v, rtol=1e-6, atol=1e-7)


def test_int8_io(cnn):
    exp = export_quantized(cnn.graph, io_dtype="int8")
    assert exp.inputs[0].dtype == "int8" and exp.inputs[0].quant is not None
    assert exp.outputs[0].dtype == "int8"
    assert "QUANTIZE" not in exp.op_histogram and "DEQUANTIZE" not in exp.op_histogram
    ints = integer_feeds(cnn.graph, cnn.feeds[0])
    got = _run(exp, ints)
    sim = run_quantized(cnn.graph, ints, integer_io=True)
    for name, v in sim.items():
        np.testing.assert_array_equal(got[name], v)


def test_uint8_io(cnn):
    exp = export_quantized(cnn.graph, io_dtype="uint8")
    spec_in, spec_out = exp.inputs[0], exp.outputs[0]
    assert spec_in.dtype == spec_out.dtype == "uint8"
    int8_in = export_quantized(cnn.graph, io_dtype="int8").inputs[0].quant
    assert spec_in.quant["scale"] == int8_in["scale"]
    assert spec_in.quant["zero_point"][0] == int8_in["zero_point"][0] + 128
    ints = integer_feeds(cnn.graph, cnn.feeds[0])
    u8 = {k: (v.astype(np.int16) + 128).astype(np.uint8) for k, v in ints.items()}
    got = _run(exp, u8)
    sim = run_quantized(cnn.graph, ints, integer_io=True)
    for name, v in sim.items():
        np.testing.assert_array_equal(got[name].astype(np.int16) - 128, v)


def test_bad_io_dtype(cnn):
    with pytest.raises(UsageError, match="int4"):
        export_quantized(cnn.graph, io_dtype="int4")


@pytest.mark.parametrize("model", ["cnn", "transformer"])
def test_fp32_export_matches_float_interpreter(model, request):
    case = request.getfixturevalue(model)
    exp = export_float(case.float_graph, precision="fp32")
    assert exp.transposes == (0 if model == "cnn" else 4)
    got = _run(exp, case.feeds[0])
    ref = run_graph(executable(case.float_graph), case.feeds[0])
    for name, v in ref.items():
        np.testing.assert_allclose(got[name], v, rtol=1e-4, atol=1e-5)


def test_fp16_export_stores_half_weights(cnn):
    exp32 = export_float(cnn.float_graph, precision="fp32")
    exp16 = export_float(cnn.float_graph, precision="fp16")
    model = schema.Model.GetRootAs(exp16.model, 0)
    sub = model.Subgraphs(0)
    half = [sub.Tensors(i) for i in range(sub.TensorsLength())
            if sub.Tensors(i).Type() == schema.TensorType.FLOAT16]
    weights = [t for t in cnn.float_graph.constants() if t.dtype == np.float32 and t.data.size > 1]
    assert len(half) == len(weights) == exp16.op_histogram["DEQUANTIZE"]
    half_bytes = sum(model.Buffers(t.Buffer()).DataLength() for t in half)
    assert half_bytes == sum(t.data.nbytes for t in weights) // 2
    assert len(exp16.model) < len(exp32.model)
    got = _run(exp16, cnn.feeds[0], reference=False)
    ref = run_graph(cnn.float_graph, cnn.feeds[0])
    for name, v in ref.items():
        np.testing.assert_allclose(got[name], v, atol=5e-3)


def test_export_float_rejects_quantized_graph(cnn):
    with pytest.raises(UsageError, match="quantized"):
        export_float(cnn.graph)


def _axis_ops_graph():
    """Channel-axis ops after a conv, so every one of them sees an NHWC tensor."""
    from edgeq.testing.float_models import FloatGraph

    f = FloatGraph("axes")
    x = f.input("x", (1, 3, 6, 6))
    c = f.op("Conv", [x, f.w(4, 3, 1, 1), f.c(np.zeros(4, np.float32))], (1, 4, 6, 6),
             kernel_shape=[1, 1], group=1)
    p = f.op("Pad", [c, f.c(np.array([0, 1, 1, 0, 0, 0, 0, 2]))], (1, 5, 7, 8), mode="constant")
    s = f.op("Slice", [p, f.c(np.array([1, 1, 1])), f.c(np.array([5, 7, 7])), f.c(np.array([1, 2, 3]))],
             (1, 4, 6, 6))
    cat = f.op("Concat", [s, c], (1, 8, 6, 6), axis=1)
    g = f.op("Gather", [cat, f.c(np.array([7, 0, 3]))], (1, 3, 6, 6), axis=1)
    a, b = f.t((1, 1, 6, 6)), f.t((1, 2, 6, 6))
    from edgeq.sdk import Node

    f.g.nodes.append(Node("split", "Split", [g, f.c(np.array([1, 2]))], [a, b], {"axis": 1}))
    m = f.op("Mul", [a, b], (1, 2, 6, 6))
    mean = f.op("ReduceMean", [m, f.c(np.array([1]))], (1, 6, 6), keepdims=0)
    sm = f.op("Softmax", [mean], (1, 6, 6), axis=1)
    mx = f.op("MaxPool", [cat], (1, 8, 3, 3), kernel_shape=[2, 2], strides=[2, 2])
    flat = f.op("Reshape", [mx, f.c(np.array([1, 72]))], (1, 72))
    f.g.outputs.append(sm)
    return f.output(flat)


def test_layout_conversion_keeps_axis_ops_exact():
    g = _axis_ops_graph()
    feed = {"x": np.random.default_rng(3).normal(size=(1, 3, 6, 6)).astype(np.float32)}
    exp = export_float(g)
    # one TRANSPOSE: the C·H·W flatten needs the NCHW element order; two more move the
    # softmax axis (1 of a 3-D tensor) last for SOFTMAX and back
    assert exp.transposes == 3
    got = _run(exp, feed)
    ref = run_graph(g, feed)
    for name, v in ref.items():
        np.testing.assert_allclose(got[name], v, rtol=1e-5, atol=1e-6)


def test_layout_conversion_conv1d_chain_and_lazy_transposes():
    """Conv1d as Unsqueeze/Conv/Squeeze, a transpose read twice, a transposed residual."""
    from edgeq.sdk import Node

    from edgeq.testing.float_models import FloatGraph

    f = FloatGraph("conv1d")
    x = f.input("x", (2, 4, 16))
    ax = f.c(np.array([2]))
    u = f.op("Unsqueeze", [x, ax], (2, 4, 1, 16))
    c = f.op("Conv", [u, f.w(6, 4, 1, 3), f.c(np.zeros(6, np.float32))], (2, 6, 1, 16),
             kernel_shape=[1, 3], pads=[0, 1, 0, 1], group=1)
    s = f.op("Squeeze", [c, ax], (2, 6, 16))
    r = f.op("Relu", [s], (2, 6, 16))
    t = f.op("Transpose", [r], (2, 16, 6), perm=[0, 2, 1])
    m = f.op("MatMul", [t, f.w(6, 5)], (2, 16, 5))
    m2 = f.op("MatMul", [t, f.w(6, 5)], (2, 16, 5))
    y = f.op("Add", [m, m2], (2, 16, 5))
    f.g.nodes.append(Node("back", "Transpose", [y], ["y_t"], {"perm": [0, 2, 1]}))
    from edgeq.sdk import Tensor

    f.g.tensors["y_t"] = Tensor("y_t", np.float32, (2, 5, 16))
    g = f.output("y_t")
    exp = export_float(g)
    assert exp.transposes <= 1
    feed = {"x": np.random.default_rng(5).normal(size=(2, 4, 16)).astype(np.float32)}
    got = _run(exp, feed)
    np.testing.assert_allclose(got["y_t"], run_graph(g, feed)["y_t"], rtol=1e-5, atol=1e-5)
