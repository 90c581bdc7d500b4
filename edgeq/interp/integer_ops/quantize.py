"""Quantize (TFLite QUANTIZE): float → int, or int → int requantization.

* float → int (``reference_ops::AffineQuantize``, kernels/internal/reference/quantize.h):
  ``q = static_cast<int32>(TfLiteRound(x / static_cast<float>(scale))) + zero_point``,
  clamped to the storage type. The division is float32 and ``TfLiteRound`` rounds half
  away from zero. Per-channel output params (``PerChannelQuantize``) apply the same
  formula with the scale/zero point of each channel.
* int → int (``reference_ops::Requantize``, reference/requantize.h): Prepare derives
  ``QuantizeMultiplier(double(s_in) / double(s_out))`` (kernels/quantize.cc) and each value
  becomes ``MultiplyByQuantizedMultiplier(q − zp_in, M, shift) + zp_out``, clamped.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, in_quant, out_quant, per_tensor, prepared, storage_range, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, quantize_multiplier_scalar, round_half_away, wrap_int32)

_QUANTIZED = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32))


def float_to_int(x: np.ndarray, scale, zero_point, dtype) -> np.ndarray:
    """AffineQuantize: float32 division, round half away, int32 conversion, clamp.

    ``static_cast<int32>`` of a value outside int32 (or NaN) is undefined in C; x86
    (``cvttss2si``) yields INT32_MIN, which is what LiteRT on a host produces, so that
    is reproduced here rather than saturating.
    """
    r = round_half_away(np.asarray(x, np.float32) / np.asarray(scale, np.float32))
    ok = np.isfinite(r) & (r >= -2.0 ** 31) & (r < 2.0 ** 31)
    as_int = np.where(ok, r, -2.0 ** 31).astype(np.int64)
    lo, hi = storage_range(dtype)
    return clamp_cast(wrap_int32(as_int + np.asarray(zero_point, np.int64)), lo, hi, dtype)


@INTEGER_OPS.register("Quantize")
def quantize(node, inputs, ctx):
    x = inputs[0]
    qo = out_quant(ctx, node)
    dtype = qo.dtype.numpy
    if x.dtype == np.float32 or x.dtype == np.float64:
        shape = qo.broadcast_shape(x.ndim)
        return [float_to_int(x, qo.scale.reshape(shape), qo.zero_point.reshape(shape), dtype)]
    if x.dtype not in _QUANTIZED:
        raise unsupported(node, "expects a float32 or integer input", [x])
    qi = in_quant(ctx, node)
    s_in, zp_in = per_tensor(node, qi, "a requantized input")
    s_out, zp_out = per_tensor(node, qo, "a requantized output")
    m, shift = prepared(ctx, node, lambda: quantize_multiplier_scalar(float(s_in) / float(s_out)))
    y = multiply_by_quantized_multiplier(x.astype(np.int64) - zp_in, m, shift) + zp_out
    lo, hi = storage_range(dtype)
    return [clamp_cast(y, lo, hi, dtype)]
