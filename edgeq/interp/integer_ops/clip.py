"""Relu and Clip as standalone ops (TFLite RELU / RELU6 / RELU_N1_TO_1 / RELU_0_TO_1, or
MAXIMUM+MINIMUM for other bounds).

kernels/activations.cc ``ReluPrepare``/``QuantizedReluX``: ``M, shift =
QuantizeMultiplier(s_in / s_out)`` (a float32 division); bounds
``zp_out + int(roundf(bound / s_out))`` intersected with the storage range (the upper one
unbounded for ReLU); each value ``zp_out + MultiplyByQuantizedMultiplier(q − zp_in, M,
shift)``, clamped. With identical input and output params the multiplier is exactly 1 and
this equals MAXIMUM/MINIMUM against the quantized bounds.

Clip's bounds are constant inputs: floats (real bounds), or integers already quantized with
the input's parameters.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, const_input, in_quant, out_quant, per_tensor, prepared, require_int,
    storage_range)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, quantize_multiplier_scalar, round_half_away)


def _bound(value, s_out, zp_out) -> int:
    return zp_out + int(round_half_away(np.float32(value) / np.float32(s_out)))


def relu_x(node, x, qi, qo, lo_real, hi_real):
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    qmin, qmax = storage_range(qo.dtype.numpy)
    lo = qmin if lo_real is None else max(qmin, _bound(lo_real, s_out, zp_out))
    hi = qmax if hi_real is None else min(qmax, _bound(hi_real, s_out, zp_out))
    m, shift = quantize_multiplier_scalar(float(np.float32(s_in / s_out)))
    y = zp_out + multiply_by_quantized_multiplier(x.astype(np.int64) - zp_in, m, shift)
    return clamp_cast(y, lo, hi, qo.dtype.numpy)


@INTEGER_OPS.register("Relu")
def relu(node, inputs, ctx):
    x = inputs[0]
    return [relu_x(node, x, in_quant(ctx, node), out_quant(ctx, node), 0.0,
                   node.attrs.get("act_max"))]


def _real_bound(ctx, node, i, qi):
    v = const_input(ctx, node, i, "a clip bound")
    if v is None:
        return None
    v = np.ravel(v)[0]
    if np.asarray(v).dtype.kind == "f":
        return float(v)
    s_in, zp_in = per_tensor(node, qi, "the input")
    return float(np.float32(s_in) * np.float32(int(v) - zp_in))


@INTEGER_OPS.register("Clip")
def clip(node, inputs, ctx):
    x = inputs[0]
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    lo, hi = prepared(ctx, node, lambda: (_real_bound(ctx, node, 1, qi),
                                          _real_bound(ctx, node, 2, qi)))
    if _same_params(qi, qo) or _relu_family(lo, hi, x.dtype):
        return [relu_x(node, x, qi, qo, lo, hi)]
    # Other bounds are MAXIMUM/MINIMUM, which cannot rescale: the rescaling Clip is an
    # int->int QUANTIZE (kernels/quantize.cc, effective scale s_in/s_out in double)
    # followed by the clamp in the output's parameters (then the multiplier is exactly 1).
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    m, shift = quantize_multiplier_scalar(float(s_in) / float(s_out))
    qmin, qmax = storage_range(qo.dtype.numpy)
    y = multiply_by_quantized_multiplier(x.astype(np.int64) - zp_in, m, shift) + zp_out
    y = clamp_cast(y, qmin, qmax, qo.dtype.numpy)
    return [relu_x(node, y, qo, qo, lo, hi)]


def _same_params(qi, qo) -> bool:
    return (np.array_equal(qi.scale, qo.scale) and np.array_equal(qi.zero_point, qo.zero_point)
            and qi.dtype == qo.dtype)


def _relu_family(lo, hi, dtype) -> bool:
    """Bounds TFLite runs with a RELU-family kernel, which rescales by itself
    (kernels/activations.cc): RELU and RELU6 for int8/int16, RELU_N1_TO_1 and
    RELU_0_TO_1 for int8 only."""
    bounds = (lo, hi)
    if bounds in ((0.0, None), (0.0, 6.0)):
        return True
    return np.dtype(dtype) == np.int8 and bounds in ((-1.0, 1.0), (0.0, 1.0))
