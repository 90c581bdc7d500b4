"""gemmlowp fixed-point math on int16 raw values (``FixedPoint<int16, k>``), as used by
TFLite's integer LSTM (kernels/internal/reference/portable_tensor_utils.cc
``PortableApplySigmoid`` / ``PortableApplyTanh``: ``gemmlowp::logistic`` and
``gemmlowp::tanh`` on int16).

A ``FixedPoint<int16, k>`` value is its raw int16 ``r`` meaning ``r / 2^(15 − k)``. The
int16 specialisations differ from the int32 ones (see ``_gemmlowp.py``) in three ways
that matter bit-for-bit:

* multiplication is the int16 ``SaturatingRoundingDoublingHighMul`` (nudge ``2^14``,
  truncating division by ``2^15``);
* every constant is the int32 constant gemmlowp hard-codes rescaled by
  ``RescaleConstantInitializer<int16>``: ``RoundingDivideByPOT(c, 16)``;
* ``exp_on_interval_between_negative_one_quarter_and_0_excl`` ends with
  ``AddSaturatingIf16Bit`` (a saturating add for int16), where int32 wraps.

``+``/``−`` and unary minus wrap like the C++ ``static_cast<int16>``. Everything runs
vectorised on int64 arrays holding int16 values.
"""

from __future__ import annotations

import numpy as np

from edgeq.quantize.arith.fixed_point import (
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul_int16 as _srdhm16)

_MIN, _MAX = -(1 << 15), (1 << 15) - 1
ONE_Q0 = _MAX  # FixedPoint<int16, 0>::One()


def wrap16(x):
    """``static_cast<int16>`` of int64 values (two's complement wrap)."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)


def const(int32_value: int) -> int:
    """``RescaleConstantInitializer<int16>``: a gemmlowp int32 constant on int16."""
    return int(rounding_divide_by_pot(np.int64(int32_value), 16))


def add(a, b):
    return wrap16(np.asarray(a, np.int64) + b)


def sub(a, b):
    return wrap16(np.asarray(a, np.int64) - b)


def neg(a):
    return wrap16(-np.asarray(a, np.int64))


def mul(a, b):
    return wrap16(_srdhm16(a, b))


def saturating_add(a, b):
    """``AddSaturatingIf16Bit`` on int16."""
    return np.clip(np.asarray(a, np.int64) + b, _MIN, _MAX)


def multiply_by_pot(x, exponent: int):
    """``SaturatingRoundingMultiplyByPOT<exponent>`` on int16."""
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    return np.clip(x << exponent, _MIN, _MAX)


def rescale(x, src_bits: int, dst_bits: int):
    """``Rescale<dst_bits>`` of a ``FixedPoint<int16, src_bits>``."""
    return multiply_by_pot(x, src_bits - dst_bits)


def rounding_half_sum(a, b):
    """``RoundingHalfSum(int16, int16)``: ``(a + b ± 1) / 2`` with C truncation."""
    s = np.asarray(a, np.int64) + b
    t = s + np.where(s >= 0, 1, -1)
    return np.where(t >= 0, t >> 1, -((-t) >> 1))


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    constant_term = const(1895147668)  # exp(-1/8)
    constant_1_over_3 = const(715827883)
    x = add(a, 1 << 12)  # a + ConstantPOT<-3> in Q0.15
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = multiply_by_pot(x4, -2)
    poly = multiply_by_pot(add(mul(add(x4_over_4, x3), constant_1_over_3), x2), -1)
    return saturating_add(constant_term, mul(constant_term, add(x, poly)))


# exp(-2^k) for k = -2..4: gemmlowp's int32 barrel-shifter multipliers
_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
           (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int):
    """exp(a) for a ≤ 0 given as ``FixedPoint<int16, integer_bits>``; result Q0.15."""
    a = np.asarray(a, np.int64)
    frac_bits = 15 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_q_minus_q = sub(a & (one_quarter - 1), one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_q_minus_q, integer_bits, 0))
    remainder = sub(a_mod_q_minus_q, a)
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent:
            bit = (remainder & (1 << (frac_bits + exponent))) != 0
            result = np.where(bit, mul(result, const(multiplier)), result)
    if integer_bits > 5:
        clamp = const(-(1 << (36 - integer_bits)))  # -32 in Q(integer_bits)
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, ONE_Q0, result)


def _newton_reciprocal_half(a):
    """``x ≈ 1 / ((1 + a) / 2)`` in Q2.13 for a in [0, 1) (Q0.15): the three
    Newton-Raphson steps shared by ``one_over_one_plus_x_for_x_in_0_1`` and
    ``one_minus_x_over_one_plus_x_for_x_in_0_1``."""
    half_denominator = rounding_half_sum(a, ONE_Q0)
    x = add(const(1515870810), mul(half_denominator, const(-1010580540)))  # 48/17 - 32/17 d
    one_q2 = 1 << 13
    for _ in range(3):
        one_minus = sub(one_q2, mul(half_denominator, x))
        x = add(x, rescale(mul(x, one_minus), 4, 2))
    return x


def logistic(a, integer_bits: int):
    """``gemmlowp::logistic`` of a ``FixedPoint<int16, integer_bits>``; result Q0.15."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_a = np.where(positive, a, neg(a))
    # logistic_on_positive_values: 1 / (1 + exp(-|a|)); ExactMulByPot<-1> keeps the raw value
    pos = rescale(_newton_reciprocal_half(exp_on_negative_values(neg(abs_a), integer_bits)), 1, 0)
    negv = sub(ONE_Q0, pos)
    return np.where(a == 0, const(1 << 30), np.where(positive, pos, negv))


def tanh(a, integer_bits: int):
    """``gemmlowp::tanh`` of a ``FixedPoint<int16, integer_bits>``; result Q0.15."""
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, neg(a))
    # neg_tanh_on_negative_values: (1 - e) / (1 + e), e = exp(2n) (ExactMulByPot<1>: same raw)
    e = exp_on_negative_values(n, integer_bits + 1)
    t = rescale(sub(_newton_reciprocal_half(e), 1 << 13), 2, 0)
    return np.where(a == 0, 0, np.where(negative, neg(t), t))
