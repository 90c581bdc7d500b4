"""SquaredDifference (TFLite SQUARED_DIFFERENCE), int8 only (kernels/squared_difference.cc).

Prepare: ``left_shift = 7``; ``twice_max = 2·max(s1, s2)``;
``QuantizeMultiplierSmallerThanOneExp`` of ``s1/twice_max``, ``s2/twice_max`` and
``twice_max² / (2^14 · s_out)``. Per element: each input ``(q − zp) · 2^7`` is rescaled
with ``MultiplyByQuantizedMultiplierSmallerThanOneExp``, the difference is squared in
int32, rescaled by the output multiplier the same way, ``+ zp_out``, clamped to int8.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier_smaller_than_one_exp as mbqm_lt1, quantize_multiplier_scalar,
    wrap_int32)


def _lt1(node, real, what):
    if not 0.0 <= real < 1.0:
        raise unsupported(node, f"the {what} rescale factor {real:.6g} is not below 1; TFLite's "
                                "SQUARED_DIFFERENCE cannot represent it — widen the output range")
    return quantize_multiplier_scalar(real)


def _prepare(node, q1, q2, qo):
    s1, zp1 = per_tensor(node, q1, "input 1")
    s2, zp2 = per_tensor(node, q2, "input 2")
    so, zpo = per_tensor(node, qo, "the output")
    twice_max = float(np.float32(2 * max(s1, s2)))
    m1 = _lt1(node, float(s1) / twice_max, "input 1")
    m2 = _lt1(node, float(s2) / twice_max, "input 2")
    mo = _lt1(node, twice_max * twice_max / float(np.float32((1 << 14) * so)), "output")
    return zp1, m1, zp2, m2, zpo, mo


@INTEGER_OPS.register("SquaredDifference")
def squared_difference(node, inputs, ctx):
    a, b = inputs
    require_int(node, [a, b], (np.dtype(np.int8),))
    q1, q2, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    if qo.dtype.numpy != np.int8:
        raise unsupported(node, "TFLite's SQUARED_DIFFERENCE is int8 only", [a, b])
    zp1, m1, zp2, m2, zpo, mo = prepared(ctx, node, lambda: _prepare(node, q1, q2, qo))
    x1 = mbqm_lt1((a.astype(np.int64) - zp1) << 7, *m1)
    x2 = mbqm_lt1((b.astype(np.int64) - zp2) << 7, *m2)
    diff = x1 - x2
    y = mbqm_lt1(wrap_int32(diff * diff), *mo) + zpo
    return [clamp_cast(y, -128, 127, np.int8)]
