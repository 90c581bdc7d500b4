"""Mul (TFLite MUL) with numpy broadcasting.

kernels/mul.cc ``Prepare``: ``real = s1 · s2 / s_out`` evaluated in **float32** (the
operands are ``float``) and then ``QuantizeMultiplier``'d. Each element
(reference/integer_ops/mul.h ``MulElementwise``/``BroadcastMul6DSlow``):
``zp_out + MultiplyByQuantizedMultiplier((q1 − zp1) · (q2 − zp2), M, shift)`` with the
product in int32, clamped to the fused activation range. int16 requires zero points 0.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, prepared, require_int,
    require_symmetric_int16, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, quantize_multiplier_scalar, wrap_int32)

_ACT = (np.dtype(np.int8), np.dtype(np.int16))


def _prepare(node, q1, q2, qo):
    s1, zp1 = per_tensor(node, q1, "input 1")
    s2, zp2 = per_tensor(node, q2, "input 2")
    so, zpo = per_tensor(node, qo, "the output")
    real = np.float32(np.float32(s1 * s2) / so)  # float arithmetic, as in mul.cc
    return zp1, zp2, zpo, quantize_multiplier_scalar(float(real)), fused_range(node, qo)


@INTEGER_OPS.register("Mul")
def mul(node, inputs, ctx):
    a, b = inputs
    require_int(node, [a, b], _ACT)
    q1, q2, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    if not (a.dtype == b.dtype == qo.dtype.numpy):
        raise unsupported(node, "both inputs and the output must have the same integer type",
                          [a, b])
    require_symmetric_int16(node, a, q1, q2, qo)
    zp1, zp2, zpo, (m, shift), (lo, hi) = prepared(ctx, node, lambda: _prepare(node, q1, q2, qo))
    prod = wrap_int32((a.astype(np.int64) - zp1) * (b.astype(np.int64) - zp2))
    y = multiply_by_quantized_multiplier(prod, m, shift) + zpo
    return [clamp_cast(y, lo, hi, a.dtype)]
