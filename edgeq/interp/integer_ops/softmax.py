"""Softmax (TFLite SOFTMAX, beta 1) over ``axis`` (TFLite: the last axis).

int8 — LiteRT's *reference* kernel (kernels/activations.cc ``SoftmaxPrepare<kReference>``,
reference/softmax.h ``Softmax<int8, int8>``) uses gemmlowp fixed point, not a table:

* Prepare: ``PreprocessSoftmaxScaling(beta, s_in, 5)`` →
  ``QuantizeMultiplierGreaterThanOne(min(beta · s_in · 2^26, 2^31 − 1))`` and
  ``diff_min = −floor(31 · 2^26 / 2^left_shift)`` (``CalculateInputRadius(5, shift)``).
* Per row: ``d = q − max``; entries with ``d < diff_min`` output −128. Otherwise
  ``exp_on_negative_values`` of ``SRDHM(d · 2^shift, M)`` read as Q5.26, summed as Q12.19;
  ``GetReciprocal`` of the sum; output ``RDBPOT(SRDHM(recip, exp), bits_over_unit + 23)
  − 128``, clamped.
* The output must be (1/256, −128), as TFLite checks.

int16 — ``SoftmaxInt16`` (reference/softmax.h) with two 513-entry LUTs built in double
(exp on [−10, 0] and 1/(1+x) on [0, 1]); ``MultiplyByQuantizedMultiplier`` by
``s_in · beta / (10 / 65535)`` maps the differences onto the exp table. Output (1/32768, 0).
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops import _gemmlowp as gl
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.interp.integer_ops._lut import exp_f64, lut_int16, lut_lookup_int16
from edgeq.quantize.arith.fixed_point import (
    count_leading_zeros_u32, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_greater_than_one, quantize_multiplier_scalar,
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul)

_SCALED_DIFF_BITS = 5
_ACCUM_BITS = 12


def _prepare_int8(node, s_in: float, beta: float):
    real = min(beta * s_in * float(1 << (31 - _SCALED_DIFF_BITS)), float((1 << 31) - 1))
    m, shift = quantize_multiplier_scalar(real)
    if shift < 0:
        raise unsupported(node, f"input scale {s_in:.6g} is too small for TFLite's int8 "
                                "softmax (QuantizeMultiplierGreaterThanOne needs a factor > 1)")
    radius = ((1 << _SCALED_DIFF_BITS) - 1) * float(1 << (31 - _SCALED_DIFF_BITS)) / float(1 << shift)
    return m, shift, -int(np.floor(radius))


def softmax_int8(x: np.ndarray, m: int, shift: int, diff_min: int) -> np.ndarray:
    """Reference int8 softmax along the last axis."""
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    scaled = multiply_by_quantized_multiplier_greater_than_one(diff, m, shift)
    exps = gl.exp_on_negative_values(scaled, _SCALED_DIFF_BITS)
    contrib = np.where(valid, gl.rescale(exps, 0, _ACCUM_BITS), 0)
    # int32 wrapping accumulation (wrap-around addition is associative)
    total = gl.add(contrib.sum(axis=-1, keepdims=True), 0)
    recip, bits_over_unit = gl.get_reciprocal(total, _ACCUM_BITS)
    exponent = bits_over_unit + 31 - 8
    unsat = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(recip, exps), exponent)
    y = np.clip(unsat - 128, -128, 127)
    return np.where(valid, y, -128).astype(np.int8)


def _prepare_int16(s_in: float, beta: float):
    rng = 65535  # int16 max - min
    exp_lut = lut_int16(10.0 / rng, 32767, 2.0 / rng, 0, exp_f64)
    recip_lut = lut_int16(1.0 / rng, -32768, 2.0 / rng, 0, lambda v: 1.0 / (1.0 + v))
    m, shift = quantize_multiplier_scalar(s_in * beta / (10.0 / 65535.0))
    return exp_lut, recip_lut, m, shift


def softmax_int16(x: np.ndarray, exp_lut, recip_lut, m: int, shift: int) -> np.ndarray:
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    scaled = multiply_by_quantized_multiplier(diff, m, shift)
    exps = lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), exp_lut).astype(np.int64)
    total = exps.sum(axis=-1, keepdims=True)  # int32 in C; at most 32767 * depth
    hpo = count_leading_zeros_u32(total)
    shifted = ((total << (hpo - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
    recip = lut_lookup_int16(sym, recip_lut).astype(np.int64)
    right = 31 - hpo
    y = (exps * recip + (np.int64(1) << (right - 1))) >> right
    return np.clip(y, 0, 32767).astype(np.int16)


@INTEGER_OPS.register("Softmax")
def softmax(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    beta = float(np.float32(node.attrs.get("beta", 1.0)))
    axis = int(node.attrs.get("axis", -1)) % x.ndim
    xs = np.moveaxis(x, axis, -1)
    if x.dtype == np.int8:
        if qo.dtype.numpy != np.int8 or zp_out != -128 or abs(s_out - 1 / 256) > 0.001 / 256:
            raise unsupported(node, f"int8 softmax output must be quantized (1/256, -128) as "
                                    f"TFLite requires; found ({s_out:.6g}, {zp_out})", [x])
        m, shift, diff_min = prepared(ctx, node, lambda: _prepare_int8(node, float(s_in), beta))
        y = softmax_int8(xs, m, shift, diff_min)
    else:
        if qo.dtype.numpy != np.int16 or zp_in != 0 or zp_out != 0 or \
                abs(s_out - 1 / 32768) > 0.001 / 32768:
            raise unsupported(node, f"int16 softmax needs a symmetric input and output "
                                    f"(1/32768, 0); found ({s_out:.6g}, {zp_out})", [x])
        params = prepared(ctx, node, lambda: _prepare_int16(float(s_in), beta))
        y = softmax_int16(xs, *params)
    return [np.moveaxis(y, -1, axis)]
