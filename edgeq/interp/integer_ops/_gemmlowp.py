"""gemmlowp fixed-point math used by the reference int8 SOFTMAX (fixedpoint/fixedpoint.h,
tensorflow/lite/kernels/internal/common.h ``GetReciprocal``), vectorised on int64 arrays
that hold int32 raw values.

A ``FixedPoint<int32, k>`` value is its raw int32 ``r`` meaning ``r / 2^(31 − k)``.
Multiplication is ``SaturatingRoundingDoublingHighMul`` (integer bits add up), ``+``/``−``
are plain int32 additions (wrapping), ``Rescale<k'>`` is a saturating/rounding
multiplication by ``2^(k − k')``. Constants are the raw values gemmlowp hard-codes.
"""

from __future__ import annotations

import numpy as np

from edgeq.quantize.arith.fixed_point import (
    INT32_MAX, count_leading_zeros_u32, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as mul, saturating_rounding_multiply_by_pot, wrap_int32)

ONE_Q0 = INT32_MAX  # FixedPoint<int32, 0>::One()


def add(a, b):
    return wrap_int32(np.asarray(a, np.int64) + b)


def sub(a, b):
    return wrap_int32(np.asarray(a, np.int64) - b)


def rescale(x, src_bits: int, dst_bits: int):
    """``Rescale<dst_bits>`` of a ``FixedPoint<int32, src_bits>``."""
    return saturating_rounding_multiply_by_pot(x, src_bits - dst_bits)


def rounding_half_sum(a, b):
    """``RoundingHalfSum(int32, int32)``: ``(a + b ± 1) / 2`` with C truncation."""
    s = np.asarray(a, np.int64) + b
    t = s + np.where(s >= 0, 1, -1)
    return np.where(t >= 0, t >> 1, -((-t) >> 1))


def exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), Q0.31: a 4th-order Taylor expansion around -1/8."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = add(a, 1 << 28)  # a + 1/8
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(add(mul(add(x4_over_4, x3), constant_1_over_3), x2), 1)
    return add(constant_term, mul(constant_term, add(x, poly)))


# exp(-2^k) for k = -2..4, Q0.31 (the barrel shifter of exp_on_negative_values)
_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
           (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int):
    """exp(a) for a ≤ 0 given as ``FixedPoint<int32, integer_bits>``; result Q0.31."""
    a = np.asarray(a, np.int64)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_q_minus_q = sub(a & (one_quarter - 1), one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_q_minus_q, integer_bits, 0))
    remainder = sub(a_mod_q_minus_q, a)
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent:
            bit = (remainder & (1 << (frac_bits + exponent))) != 0
            result = np.where(bit, mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, ONE_Q0, result)


def one_over_one_plus_x_for_x_in_0_1(a):
    """1 / (1 + a) for a in [0, 1) (Q0.31 in and out): Newton-Raphson, 3 iterations."""
    half_denominator = rounding_half_sum(a, ONE_Q0)
    c48_17, cneg32_17 = 1515870810, -1010580540  # Q2.29
    one_q2 = 1 << 29
    x = add(c48_17, mul(half_denominator, cneg32_17))
    for _ in range(3):
        hdx = mul(half_denominator, x)                   # Q2
        one_minus = sub(one_q2, hdx)                     # Q2
        x = add(x, rescale(mul(x, one_minus), 4, 2))     # Q2*Q2 = Q4 -> Q2
    return rescale(x, 1, 0)  # ExactMulByPot<-1> (Q2 -> Q1 raw) then Rescale<0>


def get_reciprocal(x, x_integer_digits: int):
    """``GetReciprocal``: ``(raw Q0.31 of 1 / x normalised, num_bits_over_unit)``."""
    x = np.asarray(x, np.int64)
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap_int32(shifted - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


def saturating_add(a, b):
    """``SaturatingAddNonGemmlowp(int32, int32)``."""
    return np.clip(np.asarray(a, np.int64) + b, -(1 << 31), INT32_MAX)


def saturating_sub(a, b):
    return np.clip(np.asarray(a, np.int64) - b, -(1 << 31), INT32_MAX)


def saturating_multiply_by_pot_param(x, exponent):
    """``SaturatingRoundingMultiplyByPOTParam`` with a run-time (non-negative) exponent:
    a left shift saturating at the int32 limits (common.h)."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    threshold = (np.int64(1) << (31 - exponent)) - 1
    y = wrap_int32(x << exponent)
    y = np.where(x > threshold, INT32_MAX, y)
    y = np.where(x < -threshold, -(1 << 31), y)
    return np.where(exponent == 0, x, y)


def log_x_for_x_greater_than_or_equal_to_1(x, output_bits: int, input_bits: int):
    """``log_x_for_x_greater_than_or_equal_to_1_impl`` (common.h): log(x) of a
    ``FixedPoint<int32, input_bits>`` as ``FixedPoint<int32, output_bits>``."""
    accum_bits = output_bits + 1
    log_2, sqrt_sqrt_half, sqrt_half = 1488522236, 1805811301, 1518500250
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = rescale(536870912, 0, accum_bits)
    z_a = np.asarray(x, np.int64)
    z_a_headroom_plus_1 = count_leading_zeros_u32(z_a)
    r_a_tmp = saturating_multiply_by_pot_param(z_a, z_a_headroom_plus_1 - 1)
    r_a = saturating_multiply_by_pot_param(mul(r_a_tmp, sqrt_half), 1)
    z_a_pow_2_adj = saturating_add(
        saturating_multiply_by_pot_param(input_bits - z_a_headroom_plus_1, 31 - accum_bits),
        shifted_quarter)
    z_b = mul(z_a, sqrt_half)
    z_b_headroom = count_leading_zeros_u32(z_b) - 1
    r_b = saturating_multiply_by_pot_param(z_a, z_b_headroom)
    z_b_pow_2_adj = saturating_sub(
        saturating_multiply_by_pot_param(input_bits - z_b_headroom, 31 - accum_bits),
        shifted_quarter)
    r = np.minimum(r_a, r_b)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(r, sqrt_sqrt_half)
    q = sub(r, sqrt_sqrt_half)
    q = add(q, q)
    common_sq = mul(q, q)
    num = add(mul(q, r), mul(mul(q, common_sq), alpha_n))
    denom_minus_one = add(mul(p, add(add(alpha_i, q), mul(alpha_d, common_sq))), mul(alpha_f, q))
    recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one)
    num_scaled = rescale(num, 0, accum_bits)
    return rescale(add(mul(z_pow_2_adj, log_2), mul(num_scaled, recip_denom)), accum_bits, output_bits)
