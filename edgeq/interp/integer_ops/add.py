"""Add (TFLite ADD) — and the shared arithmetic of Sub — with numpy broadcasting.

TFLite's general quantized add (kernels/add.cc ``Prepare``; reference/integer_ops/add.h
``AddFunc``, reference/add.h for int16, reference/sub.h for SUB):

* Prepare: ``left_shift = 20`` (int8) or ``15`` (int16); ``twice_max = 2·max(s1, s2)``;
  ``QuantizeMultiplierSmallerThanOneExp`` of ``s1/twice_max``, ``s2/twice_max`` and
  ``twice_max / (2^left_shift · s_out)``.
* Each input: ``(q − zp) · 2^left_shift`` (int32), then
  ``MultiplyByQuantizedMultiplierSmallerThanOneExp`` by its multiplier; the two are
  added (or subtracted), the sum rescaled by the output multiplier, ``+ zp_out``, and
  clamped to the fused activation range.

int16 uses this general path when the TFLite option ``pot_scale_int16`` is false (the
emitter writes it so); the power-of-two-only LSTM path is not modelled.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, prepared, require_int,
    unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier_smaller_than_one_exp as mbqm_lt1, quantize_multiplier_scalar,
    wrap_int32)

_ACT = (np.dtype(np.int8), np.dtype(np.int16))


def _smaller_than_one(node, real: float, what: str) -> tuple[int, int]:
    if not 0.0 <= real < 1.0:
        raise unsupported(node, f"the {what} rescale factor {real:.6g} is not below 1 (output "
                                "scale too small for the inputs); TFLite's ADD/SUB cannot "
                                "represent it — widen the output range")
    return quantize_multiplier_scalar(real)


def prepare_add(node, q1, q2, qo, dtype):
    s1, zp1 = per_tensor(node, q1, "input 1")
    s2, zp2 = per_tensor(node, q2, "input 2")
    so, zpo = per_tensor(node, qo, "the output")
    left_shift = 15 if dtype == np.int16 else 20
    twice_max = 2.0 * float(max(s1, s2))
    m1 = _smaller_than_one(node, float(s1) / twice_max, "input 1")
    m2 = _smaller_than_one(node, float(s2) / twice_max, "input 2")
    mo = _smaller_than_one(node, twice_max / (float(1 << left_shift) * float(so)), "output")
    return left_shift, (zp1, m1), (zp2, m2), (zpo, mo), fused_range(node, qo)


def add_sub(node, inputs, ctx, sign: int):
    a, b = inputs
    require_int(node, [a, b], _ACT)
    q1, q2, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    if not (a.dtype == b.dtype == qo.dtype.numpy):
        raise unsupported(node, "both inputs and the output must have the same integer type",
                          [a, b])
    left_shift, (zp1, m1), (zp2, m2), (zpo, mo), (lo, hi) = prepared(
        ctx, node, lambda: prepare_add(node, q1, q2, qo, a.dtype))
    x1 = mbqm_lt1(wrap_int32((a.astype(np.int64) - zp1) << left_shift), *m1)
    x2 = mbqm_lt1(wrap_int32((b.astype(np.int64) - zp2) << left_shift), *m2)
    raw = wrap_int32(x1 + sign * x2)
    y = mbqm_lt1(raw, *mo) + zpo
    return [clamp_cast(y, lo, hi, a.dtype)]


@INTEGER_OPS.register("Add")
def add(node, inputs, ctx):
    return add_sub(node, inputs, ctx, +1)
