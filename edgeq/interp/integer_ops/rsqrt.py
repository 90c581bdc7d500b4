"""Rsqrt (TFLite RSQRT), int8 and int16 (kernels/elementwise.cc).

int16: ``LUTPopulate<int16_t>`` (float32 arithmetic) of ``1.0f / sqrtf(x)`` (``x <= 0``
maps to ``32767 · s_out``), looked up with interpolation; inputs below the zero point
are rejected, as TFLite does.

int8 (``RsqrtEvalQuantizedInt8``):

Prepare: ``M, shift = QuantizeMultiplier(1 / (sqrtf(s_in) · s_out))`` (the product in
float32). Per value ``v = q − zp_in`` (negative ``v`` is an error, as in TFLite; ``v = 0``
gives 127): ``GetInvSqrtQuantizedMultiplierExp(v)`` (Newton–Raphson in gemmlowp fixed point,
common.h) gives ``1/sqrt(v)`` as a multiplier, ``MultiplyByQuantizedMultiplier(1, ·, · + 20)``
materialises it with 20 fractional bits, and ``MultiplyByQuantizedMultiplier(·, M,
shift − 20) + zp_out`` rescales to the output, clamped. The 256 possible inputs are
precomputed as a table.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, require_symmetric_int16, unsupported)
from edgeq.interp.integer_ops._lut import lut_int16, lut_lookup_int16
from edgeq.quantize.arith.fixed_point import (
    INT32_MAX, count_leading_zeros_u32, multiply_by_quantized_multiplier,
    quantize_multiplier_scalar, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as mul, saturating_rounding_multiply_by_pot, wrap_int32)


def inv_sqrt_multiplier_exp(value: int, reverse_shift: int = -1) -> tuple[int, int]:
    """``GetInvSqrtQuantizedMultiplierExp`` for one positive int32 value."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    pairs = (int(count_leading_zeros_u32(value)) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    x_in = value >> 1                                  # Q3.28
    half_input = int(rounding_divide_by_pot(x_in, 1))
    half_three = (1 << 28) + (1 << 27)                 # 1.5 in Q3.28
    x = 1 << 28                                        # 1.0 in Q3.28
    for _ in range(5):
        x3 = int(saturating_rounding_multiply_by_pot(mul(mul(x, x), x), 6))   # Q9 -> Q3
        t = wrap_int32(int(mul(half_three, x)) - int(mul(half_input, x3)))    # Q6
        x = int(saturating_rounding_multiply_by_pot(t, 3))                   # Q6 -> Q3
    x = int(mul(x, 1518500250))                        # * sqrt(2)/2
    if shift < 0:
        x <<= -shift
        shift = 0
    return x, shift * reverse_shift


def _table(node, zp_in, s_in, zp_out, s_out):
    m, shift = quantize_multiplier_scalar(1.0 / float(np.sqrt(np.float32(s_in)) * np.float32(s_out)))
    table = np.full(256, 127, np.int64)
    for q in range(-128, 128):
        v = q - zp_in
        if v <= 0:
            continue  # 0 -> 127; negative values are rejected at run time
        im, ishift = inv_sqrt_multiplier_exp(v)
        data = int(multiply_by_quantized_multiplier(1, im, ishift + 20))
        out = int(multiply_by_quantized_multiplier(data, m, shift - 20)) + zp_out
        table[q + 128] = min(max(out, -128), 127)
    return table.astype(np.int8)


def _rsqrt_f32(s_out):
    def fn(v):
        v = np.asarray(v, np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.float32(1.0) / np.sqrt(v)
        return np.where(v <= 0, np.float32(32767) * np.float32(s_out), r).astype(np.float32)
    return fn


@INTEGER_OPS.register("Rsqrt")
def rsqrt(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input's", [x])
    require_symmetric_int16(node, x, qi, qo)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    if np.any(x.astype(np.int64) < zp_in):
        raise unsupported(node, "Rsqrt of a negative value (input below its zero point); "
                                "TFLite rejects it at run time")
    if x.dtype == np.int16:
        lut = prepared(ctx, node, lambda: lut_int16(s_in, zp_in, s_out, zp_out,
                                                    _rsqrt_f32(s_out), np.float32))
        return [lut_lookup_int16(x, lut)]
    table = prepared(ctx, node, lambda: _table(node, zp_in, s_in, zp_out, s_out))
    return [table[x.astype(np.int64) + 128]]
