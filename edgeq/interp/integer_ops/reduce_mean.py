"""ReduceMean and GlobalAveragePool (TFLite MEAN).

``reference_ops::QuantizedMeanOrSum`` (reference/reduce.h) as LiteRT's reference MEAN
runs it for int8/int16 (kernels/reduce.cc ``EvalQuantizedMean``):

* Prepare: ``QuantizeMultiplier(double(s_in) / double(s_out))`` → ``(M, shift)``.
* ``sum`` of the raw values in an int32 accumulator (wrapping), then
  ``shifted = int32(sum − zp_in · n)``.
* The ``1/n`` is folded into the multiplier: ``k = min(floor(log2 n), 32, 31 + shift)``,
  ``M' = (int64(M) << k) / n`` (truncating), ``shift' = shift − k``.
* ``MultiplyByQuantizedMultiplier(shifted, M', shift') + zp_out``, clamped to the storage
  type. int16 requires zero points of 0.

GlobalAveragePool is MEAN over the spatial axes with ``keepdims``.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    axes_input, clamp_cast, in_quant, out_quant, per_tensor, require_int,
    require_symmetric_int16, storage_range, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, quantize_multiplier_scalar, wrap_int32)


def quantized_mean(node, x, qi, qo, axes, keepdims: bool, compute_sum: bool = False) -> np.ndarray:
    """``QuantizedMeanOrSum``: the mean (or, with ``compute_sum``, the sum) over ``axes``."""
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input's", [x])
    require_symmetric_int16(node, x, qi, qo)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    m, shift = quantize_multiplier_scalar(float(s_in) / float(s_out))
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    k = 0 if compute_sum else min(n.bit_length() - 1, 32, 31 + shift)
    m2 = m if compute_sum else (m << k) // n
    total = wrap_int32(x.astype(np.int64).sum(axis=tuple(axes), keepdims=keepdims))
    shifted = wrap_int32(total - zp_in * n)
    y = multiply_by_quantized_multiplier(shifted, m2, shift - k) + zp_out
    lo, hi = storage_range(x.dtype)
    return clamp_cast(y, lo, hi, x.dtype)


@INTEGER_OPS.register("ReduceMean")
def reduce_mean(node, inputs, ctx):
    x = inputs[0]
    axes = reduce_axes(ctx, node, x)
    keepdims = bool(node.attrs.get("keepdims", 1))
    return [quantized_mean(node, x, in_quant(ctx, node), out_quant(ctx, node), axes, keepdims)]


def reduce_axes(ctx, node, x) -> list[int]:
    """The reduced axes of a Reduce* node (constant input, legacy attribute, or all)."""
    axes = axes_input(ctx, node, 1, x.ndim)
    if axes is None:
        axes = node.attrs.get("axes")
        axes = sorted(int(a) % x.ndim for a in axes) if axes is not None else None
    if axes is None or len(axes) == 0:
        if node.attrs.get("noop_with_empty_axes", 0):
            raise unsupported(node, "noop_with_empty_axes=1 is an identity; remove the node")
        axes = list(range(x.ndim))
    return axes


@INTEGER_OPS.register("GlobalAveragePool")
def global_average_pool(node, inputs, ctx):
    x = inputs[0]
    axes = list(range(2, x.ndim))
    return [quantized_mean(node, x, in_quant(ctx, node), out_quant(ctx, node), axes, True)]
