"""edgeq.quantize.arith.fixed_point against hand-derived goldens and exact rational references.

The goldens below are worked out by hand from the C definitions in TFLite's
quantization_util.cc / common.cc and gemmlowp's fixedpoint.h; the property tests compare
against independent formulations with Python's exact integers and Fractions.
"""

from fractions import Fraction
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from edgeq.quantize.arith import fixed_point as fp

I32 = st.integers(min_value=fp.INT32_MIN, max_value=fp.INT32_MAX)


def _round_away(fr: Fraction) -> int:
    """Round a Fraction to nearest, ties away from zero (exact)."""
    f = math.floor(abs(fr) + Fraction(1, 2))
    return f if fr >= 0 else -f


# -- QuantizeMultiplier ------------------------------------------------------------------
@pytest.mark.parametrize("real, expected", [
    (0.5, (1 << 30, 0)),                      # frexp(0.5) = 0.5 * 2^0
    (1.0, (1 << 30, 1)),                      # frexp(1) = 0.5 * 2^1
    (0.75, (1610612736, 0)),                  # 0.75 * 2^31 exactly
    (0.5 + 2.0 ** -32, ((1 << 30) + 1, 0)),   # q*2^31 = 2^30 + 0.5: tie rounds away
    (1.0 - 2.0 ** -33, (1 << 30, 1)),         # q*2^31 rounds to 2^31: halved, shift + 1
    (2.0 ** -32, (1 << 30, -31)),             # smallest shift kept
    (2.0 ** -40, (0, 0)),                     # shift < -31 flushes to zero
    (0.0, (0, 0)),
    (3.0, (1610612736, 2)),                   # multipliers > 1 keep a positive shift
])
def test_quantize_multiplier_goldens(real, expected):
    assert fp.quantize_multiplier_scalar(real) == expected


def test_quantize_multiplier_is_vectorised_and_keeps_shape():
    m, s = fp.quantize_multiplier(np.array([[0.5, 1.0], [0.0, 2.0 ** -40]]))
    assert m.shape == s.shape == (2, 2)
    assert m.tolist() == [[1 << 30, 1 << 30], [0, 0]]
    assert s.tolist() == [[0, 1], [0, 0]]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=2.0 ** -31, max_value=2.0 ** 20, allow_nan=False))
def test_quantize_multiplier_round_trip(real):
    m, shift = fp.quantize_multiplier_scalar(real)
    assert (1 << 30) <= m < (1 << 31)
    # M0 is the exact nearest (ties away) 31-bit significand of real
    expected = _round_away(Fraction(real) / Fraction(2) ** (shift - 31))
    assert m == expected or (expected == 1 << 31 and m == 1 << 30)
    # and the represented value is within half an ulp of the 31-bit significand
    assert abs(Fraction(m) * Fraction(2) ** (shift - 31) - Fraction(real)) <= Fraction(2) ** (shift - 32)


# -- SaturatingRoundingDoublingHighMul ---------------------------------------------------
@pytest.mark.parametrize("a, b, expected", [
    (fp.INT32_MIN, fp.INT32_MIN, fp.INT32_MAX),  # the one saturating case
    (1 << 30, 1 << 30, 1 << 29),                 # 0.5 * 0.5 = 0.25, exact
    (1, 1 << 30, 1),                             # +0.5 rounds up
    (-1, 1 << 30, 0),                            # -0.5: nudge 1-2^30 and truncation give 0
    (3, 1 << 30, 2),                             # +1.5 -> 2
    (-3, 1 << 30, -1),                           # -1.5 -> -1 (round half up)
    (fp.INT32_MIN, fp.INT32_MAX, -fp.INT32_MAX),  # -1 * (1 - 2^-31)
    (fp.INT32_MAX, fp.INT32_MAX, fp.INT32_MAX - 1),
])
def test_srdhm_goldens(a, b, expected):
    assert int(fp.saturating_rounding_doubling_high_mul(a, b)) == expected


@settings(max_examples=500, deadline=None)
@given(I32, I32)
def test_srdhm_is_round_half_up_of_the_doubled_high_product(a, b):
    got = int(fp.saturating_rounding_doubling_high_mul(a, b))
    if a == b == fp.INT32_MIN:
        assert got == fp.INT32_MAX
    else:
        assert got == math.floor(Fraction(a * b, 1 << 31) + Fraction(1, 2))


# -- RoundingDivideByPOT ------------------------------------------------------------------
@pytest.mark.parametrize("x, e, expected", [
    (5, 1, 3), (-5, 1, -3), (-3, 1, -2), (3, 1, 2),      # ties away from zero
    (7, 2, 2), (-7, 2, -2), (6, 2, 2), (-6, 2, -2), (5, 2, 1), (-5, 2, -1),
    (123, 0, 123), (-123, 0, -123),
    (fp.INT32_MIN, 31, -1), (fp.INT32_MAX, 31, 1), (-(1 << 30), 31, -1), ((1 << 30) - 1, 31, 0),
])
def test_rdbpot_goldens(x, e, expected):
    assert int(fp.rounding_divide_by_pot(x, e)) == expected


@settings(max_examples=500, deadline=None)
@given(I32, st.integers(min_value=0, max_value=31))
def test_rdbpot_rounds_half_away_from_zero(x, e):
    assert int(fp.rounding_divide_by_pot(x, e)) == _round_away(Fraction(x, 1 << e))


def test_rdbpot_per_channel_exponents_broadcast():
    x = np.array([[5, 5, 5], [-5, -5, -5]])
    assert fp.rounding_divide_by_pot(x, np.array([0, 1, 2])).tolist() == [[5, 3, 1], [-5, -3, -1]]


def test_rdbpot_rejects_negative_exponent():
    with pytest.raises(ValueError):
        fp.rounding_divide_by_pot(1, -1)


# -- MultiplyByQuantizedMultiplier ---------------------------------------------------------
@pytest.mark.parametrize("x, m, shift, expected", [
    (100, 1 << 30, 0, 50),
    (5, 1 << 30, -1, 2),        # double rounding: 5 * 0.25 = 1.25 but SRDHM gives 3 (2.5 up), /2 -> 2
    (3, 1 << 30, 2, 6),         # positive shift is a left shift before SRDHM
    (1 << 30, 1 << 30, 2, 0),   # x * 4 wraps to 0 in int32 before SRDHM, as in C
    (-100, 1610612736, -3, -9),  # -100 * 0.75 / 8 = -9.375
    (0, 1 << 30, -31, 0),
])
def test_mbqm_goldens(x, m, shift, expected):
    assert int(fp.multiply_by_quantized_multiplier(x, m, shift)) == expected


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=-(1 << 24), max_value=1 << 24),
       st.floats(min_value=1e-6, max_value=60.0, allow_nan=False))
def test_mbqm_matches_exact_double_rounding(x, real):
    m, shift = fp.quantize_multiplier_scalar(real)
    left, right = max(shift, 0), max(-shift, 0)
    xl = x << left
    if not (fp.INT32_MIN <= xl <= fp.INT32_MAX):
        return  # C would wrap; covered by the golden above
    high = math.floor(Fraction(xl * m, 1 << 31) + Fraction(1, 2))
    expected = _round_away(Fraction(high, 1 << right))
    assert int(fp.multiply_by_quantized_multiplier(x, m, shift)) == expected
    # and it is within one unit of the exact real product
    assert abs(expected - x * real) <= 1.0 + abs(x * real) * 1e-6


def test_mbqm_per_channel_arrays():
    acc = np.array([[1000, 1000], [-1000, -1000]])
    m = np.array([1 << 30, 1610612736])
    s = np.array([0, -2])
    assert fp.multiply_by_quantized_multiplier(acc, m, s).tolist() == [[500, 188], [-500, -188]]


@pytest.mark.parametrize("x, m, shift, expected", [
    (1000, 1 << 30, 0, 500),
    (1, 1 << 30, 0, 1),          # +0.5: single rounding, half up
    (-1, 1 << 30, 0, 0),         # -0.5 -> 0 (half up, not away)
    (1 << 15, 0x7FFFFFFF, 0, 32767),  # multiplier reduced to 0x7FFF (cap)
    (3 << 20, 1 << 30, -4, 98304),    # 3 * 2^20 * 0.5 / 16
])
def test_mbqm_int64_goldens(x, m, shift, expected):
    assert int(fp.multiply_by_quantized_multiplier_int64(x, m, shift)) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(1 << 40), max_value=1 << 40), st.floats(min_value=1e-5, max_value=1.0))
def test_mbqm_int64_matches_exact_reference(x, real):
    m, shift = fp.quantize_multiplier_scalar(real)
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    total = 15 - shift
    expected = math.floor(Fraction(x * reduced, 1 << total) + Fraction(1, 2))
    if fp.INT32_MIN <= expected <= fp.INT32_MAX:
        assert int(fp.multiply_by_quantized_multiplier_int64(x, m, shift)) == expected


# -- helpers ------------------------------------------------------------------------------
@pytest.mark.parametrize("x, expected", [
    (0.5, 1.0), (-0.5, -1.0), (1.5, 2.0), (2.5, 3.0), (-2.5, -3.0), (0.49999997, 0.0),
    (0.49999999999999994, 0.0),  # x + 0.5 would round up to 1.0 in double
])
def test_round_half_away(x, expected):
    assert float(fp.round_half_away(np.float64(x))) == expected


def test_round_half_away_in_float32():
    # float32(2.5000002) keeps its fraction; the rounding happens in float32
    assert fp.round_half_away(np.float32(2.5000002)).dtype == np.float32
    assert float(fp.round_half_away(np.float32(-1.5))) == -2.0


def test_c_div_truncates_and_wrap_int32():
    assert fp.c_div(np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])).tolist() == [3, -3, -3, 3]
    assert fp.wrap_int32(np.array([1 << 31, -(1 << 31) - 1, 5])).tolist() == [fp.INT32_MIN, fp.INT32_MAX, 5]


def test_count_leading_zeros():
    assert fp.count_leading_zeros_u32(np.array([0, 1, 2, 3, 1 << 31, 0xFFFFFFFF])).tolist() == [32, 31, 30, 30, 0, 0]


@pytest.mark.parametrize("lo, hi, scale, zp, qmin, qmax, expected", [
    (0.0, None, 0.1, -10, -128, 127, (-10, 127)),       # ReLU
    (0.0, 6.0, 0.1, -10, -128, 127, (-10, 50)),         # ReLU6: 6 / 0.1f rounds to 60
    (-1.0, 1.0, 0.05, 0, -128, 127, (-20, 20)),         # ReLU_N1_TO_1
    (0.0, 6.0, 0.01, 0, -128, 127, (0, 127)),           # clamp to storage range
    (None, None, 0.5, 3, -32768, 32767, (-32768, 32767)),
])
def test_activation_range(lo, hi, scale, zp, qmin, qmax, expected):
    assert fp.calculate_activation_range_quantized(lo, hi, scale, zp, qmin, qmax) == expected
