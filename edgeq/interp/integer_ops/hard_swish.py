"""HardSwish (TFLite HARD_SWISH), int8: ``x · relu6(x + 3) / 6`` in 16-bit fixed point.

Prepare (kernels/activations.cc ``HardSwishPrepare``), in float32:
``hires = s_in / 128``; the output multiplier ``hires / s_out`` and the "relu-ish"
multiplier ``hires / (3 / 32768)`` go through ``QuantizeMultiplier`` and
``DownScaleInt32ToInt16Multiplier`` (``(M + 2^15) >> 16``, capped at 32767).

Per value (reference/hard_swish.h): ``v = (q − zp_in) · 128`` (int16);
``pre = SRDHM16(v, out_mult)``; the relu-ish value rescales ``v`` to [−1, 1] on a 3/32768
scale (saturating left shifts around an ``SRDHM16`` for a positive exponent, a rounding
right shift otherwise) and maps it to [0, 1] by ``(r + 2^15) >> 1``;
``SaturatingDoublingHighMul`` (truncating) of the two, ``RoundingDivideByPOT`` by the
output exponent, ``+ zp_out``, clamp.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.quantize.arith.fixed_point import (
    c_div, quantize_multiplier_scalar, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul_int16 as srdhm16)


def _down_scale_to_int16(m: int) -> int:
    if m >= (1 << 31) - 1 - (1 << 15):
        return 32767
    return (m + (1 << 15)) >> 16


def _prepare(node, s_in, s_out):
    hires = np.float32(np.float32(1.0 / 128.0) * s_in)
    reluish_scale = np.float32(3.0 / 32768.0)
    m_out, e_out = quantize_multiplier_scalar(float(np.float32(hires / s_out)))
    if e_out > 0:
        raise unsupported(node, f"output scale {s_out:.6g} is too small for TFLite's HARD_SWISH "
                                "(the output multiplier exponent must be <= 0)")
    m_rel, e_rel = quantize_multiplier_scalar(float(np.float32(hires / reluish_scale)))
    return _down_scale_to_int16(m_out), e_out, _down_scale_to_int16(m_rel), e_rel


def _sat_left_shift16(v, amount: int):
    return np.clip(v * (1 << amount), -32768, 32767)


def _wrap16(v):
    return ((np.asarray(v, np.int64) + 32768) & 0xFFFF) - 32768


def hard_swish_int8(x, zp_in, zp_out, m_out, e_out, m_rel, e_rel, qmin=-128, qmax=127):
    value = _wrap16(x.astype(np.int64) - zp_in)
    hires = _wrap16(value * 128)
    pre = srdhm16(hires, m_out)
    r = hires
    if e_rel > 0:
        r = _sat_left_shift16(r, e_rel - 1)
    r = srdhm16(r, m_rel)
    if e_rel > 0:
        r = _sat_left_shift16(r, 1)
    if e_rel < 0:
        r = rounding_divide_by_pot(r, -e_rel)
    r = _wrap16((r + (1 << 15)) >> 1)
    # SaturatingDoublingHighMul: (a * b) / 2^15 with C truncation (never overflows here)
    out = _wrap16(c_div(r * pre, 1 << 15))
    out = _wrap16(rounding_divide_by_pot(out, -e_out) + zp_out)
    return np.clip(out, qmin, qmax).astype(np.int8)


@INTEGER_OPS.register("HardSwish")
def hard_swish(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8),))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    if qo.dtype.numpy != np.int8:
        raise unsupported(node, f"output dtype {qo.dtype.value} must be int8", [x])
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    # the kernel is a function of one int8 value: evaluate it once on all 256 of them
    table = prepared(ctx, node, lambda: hard_swish_int8(
        np.arange(-128, 128).astype(np.int8), zp_in, zp_out, *_prepare(node, s_in, s_out)))
    return [table[x.astype(np.intp) + 128]]
