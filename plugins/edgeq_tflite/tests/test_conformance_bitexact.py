"""TFLite conformance at the integer level: every case of edgeq's conformance suite
(edgeq.testing.cases: one small hand-built quantized graph per op, int8 and 16x8),
emitted to .tflite with integer I/O and run in LiteRT. (The target-neutral suite in
tests/conformance compares every installed target's float outputs with the simulator.)

For every case:

* ``test_bitexact_reference``: LiteRT's reference kernels (``OpResolverType.BUILTIN_REF``)
  return exactly the integers edgeq's integer simulator computes (skipped, with the
  reason, while the simulator has no kernel for the op);
* ``test_xnnpack_within_one_lsb``: LiteRT's default kernels (XNNPACK / optimized
  builtins) are within 1 LSB of the reference kernels;
* ``test_close_to_float``: the dequantized result is within a few output LSBs of the
  same graph evaluated in float (edgeq's float interpreter on the dequantized graph) -
  an independent check of what the emitted operators mean.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter")

from edgeq.sdk import UnsupportedOpError  # noqa: E402
from edgeq.testing.cases import CASES  # noqa: E402
from edgeq.testing.qgraph import qp  # noqa: E402
from edgeq_tflite.tests import harness  # noqa: E402

# -- tests -------------------------------------------------------------------------------

NAMES = sorted(CASES)
_RUNS: dict = {}


def _runs(name):
    if name not in _RUNS:
        b, (lo, hi) = CASES[name]()
        g = b.build()
        feeds = {n: np.random.default_rng(7).uniform(lo, hi, g.tensors[n].shape).astype(np.float32)
                 for n in g.inputs}
        _RUNS[name] = (g, feeds, harness.run_all(g, feeds))
    return _RUNS[name]


@pytest.mark.parametrize("name", NAMES)
def test_bitexact_reference(name):
    g, feeds, runs = _runs(name)
    try:
        sim = harness.simulate(g, runs.int_feeds)
    except UnsupportedOpError as exc:  # a gap of the simulator, not a mismatch
        if "not supported by the edgeq integer interpreter" in str(exc):
            pytest.skip(f"integer simulator has no kernel yet: {exc.op_type}")
        pytest.skip(f"integer simulator does not support this configuration: {exc}")
    for out, ref in runs.reference.items():
        np.testing.assert_array_equal(ref, sim[out], err_msg=f"{name}: output {out}")


@pytest.mark.parametrize("name", NAMES)
def test_xnnpack_within_one_lsb(name):
    _, _, runs = _runs(name)
    for out, ref in runs.reference.items():
        diff = np.abs(runs.xnnpack[out].astype(np.int64) - ref.astype(np.int64))
        assert diff.max() <= 1, f"{name}: XNNPACK differs from the reference kernels by {diff.max()}"


@pytest.mark.parametrize("name", NAMES)
def test_close_to_float(name):
    g, feeds, runs = _runs(name)
    ref = harness.float_reference(g, feeds)
    for out, lite in runs.reference.items():
        q = runs.export.outputs[[s.name for s in runs.export.outputs].index(out)].quant
        if q is None:  # an integer result (indices): the float graph gives the same
            np.testing.assert_array_equal(lite, ref[out], err_msg=f"{name}: output {out}")
            continue
        scale, zp = q["scale"][0], q["zero_point"][0]
        got = (lite.astype(np.float64) - zp) * scale
        tol = 4 * scale + 0.02 * np.abs(ref[out]).max()
        np.testing.assert_allclose(got, ref[out], atol=tol, err_msg=f"{name}: output {out}")


# -- rounding: where LiteRT's own kernels differ ----------------------------------------
# On exact ties of the requantization (real multiplier 0.5 or 0.25 below) the kernels
# disagree, each by design:
# * BUILTIN_REF FULLY_CONNECTED: the float-scale overload of
#   reference_integer_ops::FullyConnected (tensorflow/lite/kernels/internal/reference/
#   integer_ops/fully_connected.h, chosen by fully_connected.cc for kReference) computes
#   ``round(double(acc) · s_in·s_w/s_out)`` - ONE rounding, half away from zero;
# * BUILTIN_REF CONV_2D: ``MultiplyByQuantizedMultiplier`` (kernels/internal/common.h) -
#   SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, TWO roundings;
# * XNNPACK (the default delegate): its "fp32" requantization - the int32 accumulator
#   times a float32 scale, rounded to nearest EVEN (XNNPACK src/qs8-gemm, fp32 params).
# The simulator follows BUILTIN_REF; every path stays within 1 LSB of it.


def _tie_model(op: str):
    """x = every int8 value, one input channel, weights [1, 3] with scales that make the
    effective multiplier exactly 0.5 (channel 0) and 0.25 (channel 1): many exact ties."""
    from edgeq_tflite.emit.schema import BuiltinOperator as B
    from edgeq_tflite.emit.lowering._common import opts
    from edgeq_tflite.emit.writer import ModelWriter
    from edgeq.sdk import QDType, QuantParams

    w = ModelWriter()
    n = 256
    wq = QuantParams(np.array([2.0, 1.0], np.float32), np.zeros(2), QDType.INT8, 0)
    bq = QuantParams(np.array([0.5, 0.25], np.float32), np.zeros(2), QDType.INT32, 0)
    weights = np.array([[1], [3]], np.int8)
    if op == "fc":
        x = w.add_tensor("x", np.int8, (n, 1), quant=qp(0.25, 0))
        f = w.add_tensor("w", np.int8, (2, 1), quant=wq, data=weights)
        b = w.add_tensor("b", np.int32, (2,), quant=bq, data=np.zeros(2, np.int32))
        y = w.add_tensor("y", np.int8, (n, 2), quant=qp(1.0, 0))
        w.add_operator(B.FULLY_CONNECTED, [x.index, f.index, b.index], [y.index],
                       options=opts("FullyConnectedOptions"), version=4)
    else:
        x = w.add_tensor("x", np.int8, (1, 1, n, 1), quant=qp(0.25, 0))
        f = w.add_tensor("w", np.int8, (2, 1, 1, 1), quant=wq, data=weights.reshape(2, 1, 1, 1))
        b = w.add_tensor("b", np.int32, (2,), quant=bq, data=np.zeros(2, np.int32))
        y = w.add_tensor("y", np.int8, (1, 1, n, 2), quant=qp(1.0, 0))
        w.add_operator(B.CONV_2D, [x.index, f.index, b.index], [y.index], version=3,
                       options=opts("Conv2DOptions", padding=1, strideH=1, strideW=1,
                                    dilationHFactor=1, dilationWFactor=1))
    w.inputs, w.outputs = [x.index], [y.index]
    acc = np.arange(-128, 128, dtype=np.int64)[:, None] * weights[:, 0].astype(np.int64)
    return w.finish(), acc, np.array([0.5, 0.25])


def _run_tie(model, resolver):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], np.arange(-128, 128, dtype=np.int8).reshape(d["shape"]))
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).reshape(256, 2).astype(np.int64)


@pytest.mark.parametrize("op", ["fc", "conv"])
def test_rounding_on_ties(op):
    from ai_edge_litert.interpreter import OpResolverType

    from edgeq.sdk import multiply_by_quantized_multiplier, quantize_multiplier, round_half_away

    model, acc, eff = _tie_model(op)
    single = np.clip(round_half_away(acc * eff), -128, 127).astype(np.int64)
    m0, shift = quantize_multiplier(eff)
    double = np.clip(multiply_by_quantized_multiplier(acc, m0, shift), -128, 127)
    fp32_even = np.clip(np.rint(acc.astype(np.float32) * eff.astype(np.float32)), -128, 127)
    assert (single != double).sum() > 50  # the tie set separates the two roundings
    ref = _run_tie(model, OpResolverType.BUILTIN_REF)
    np.testing.assert_array_equal(ref, single if op == "fc" else double)
    xnn = _run_tie(model, OpResolverType.AUTO)
    np.testing.assert_array_equal(xnn, fp32_even)
    assert np.abs(xnn - ref).max() == 1
