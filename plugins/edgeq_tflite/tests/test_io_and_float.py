"""I/O options (float, int8, uint8 at the boundary) and the plain FP32 / FP16 exports."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import UsageError
from edgeq.interp.float_interp import run_graph
from edgeq.interp.int_interp import run_quantized
from edgeq.quantize.lower import executable

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
    assert exp.transposes == (0 if model == "cnn" else 5)
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
