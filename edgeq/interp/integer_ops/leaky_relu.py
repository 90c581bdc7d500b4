"""LeakyRelu (TFLite LEAKY_RELU), int8 and int16 (reference_ops::QuantizeLeakyRelu,
kernels/activations.cc ``LeakyReluPrepare``).

Prepare, in float32 arithmetic: ``QuantizeMultiplier(s_in · alpha / s_out)`` for negative
inputs and ``QuantizeMultiplier(s_in / s_out)`` for the rest (a negative ``alpha`` gives a
negative multiplier, which ``MultiplyByQuantizedMultiplier`` handles). Per value
``v = q − zp_in``: ``zp_out + MultiplyByQuantizedMultiplier(v, M_identity or M_alpha)``,
clamped to the storage range. int16 requires zero points of 0.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, in_quant, out_quant, per_tensor, prepared, require_int,
    require_symmetric_int16, storage_range, unsupported)
from edgeq.quantize.arith.fixed_point import multiply_by_quantized_multiplier, quantize_multiplier_scalar


@INTEGER_OPS.register("LeakyRelu")
def leaky_relu(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input's", [x])
    require_symmetric_int16(node, x, qi, qo)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    alpha = np.float32(node.attrs.get("alpha", 0.01))

    def prepare():
        m_alpha = quantize_multiplier_scalar(float(np.float32(s_in * alpha / s_out)))
        m_id = quantize_multiplier_scalar(float(np.float32(s_in / s_out)))
        return m_alpha, m_id

    (ma, sa), (mi, si) = prepared(ctx, node, prepare)
    v = x.astype(np.int64) - zp_in
    y = zp_out + np.where(v >= 0, multiply_by_quantized_multiplier(v, mi, si),
                          multiply_by_quantized_multiplier(v, ma, sa))
    lo, hi = storage_range(x.dtype)
    return [clamp_cast(y, lo, hi, x.dtype)]
