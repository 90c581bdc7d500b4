"""Fixed-point requantization arithmetic, vectorised with numpy.

Bit-exact ports of the arithmetic in TFLite's
``tensorflow/lite/kernels/internal/quantization_util.cc`` (``QuantizeMultiplier``),
``common.cc``/``common.h`` (``MultiplyByQuantizedMultiplier`` and friends, double-rounding
build, which is what the LiteRT wheels ship) and gemmlowp's ``fixedpoint/fixedpoint.h``
(``SaturatingRoundingDoublingHighMul``, ``RoundingDivideByPOT``).

Conventions:

* Every function accepts scalars or arrays and broadcasts like numpy. Integer results are
  ``np.int64`` arrays holding values in the C type's range (int32 unless stated), so
  intermediate products never overflow numpy; where the C code relies on two's-complement
  wrap-around (``x * (1 << left_shift)`` on int32), :func:`wrap_int32` reproduces it.
* ``>>`` on numpy signed integers is an arithmetic shift, as on every compiler TFLite
  supports. C's ``/`` truncates toward zero and is emulated with :func:`c_div`.
* Rounding of floats follows ``TfLiteRound`` (``std::round``: half away from zero),
  never ``np.round`` (half to even).

Both snake_case names and the TFLite spellings (``QuantizeMultiplier`` …) are exported.
"""

from __future__ import annotations

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


# -- C integer semantics ---------------------------------------------------------------
def wrap_int32(x) -> np.ndarray:
    """Two's-complement wrap of integer values to int32 (what C int32 overflow yields)."""
    x = np.asarray(x, np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def c_div(a, b) -> np.ndarray:
    """Integer division truncating toward zero, like C's ``/`` (numpy's ``//`` floors)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


def round_half_away(x) -> np.ndarray:
    """``TfLiteRound`` / ``std::round``: round to nearest, ties away from zero.

    Computed exactly in the input's floating type (no ``x + 0.5`` double rounding), so a
    float32 input is rounded like ``std::round(float)`` and a float64 one like
    ``std::round(double)``.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    t = np.trunc(x)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN fraction, the result stays inf
        frac = x - t  # exact: t and x share the exponent range
        return t + np.where(np.abs(frac) >= 0.5, np.sign(x), 0).astype(x.dtype)


def count_leading_zeros_u32(x) -> np.ndarray:
    """``CountLeadingZeros`` on uint32 (32 for zero)."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    n = np.full(x.shape, 32, np.int64)
    nz = x > 0
    # floor(log2) via frexp is exact for integers below 2^53
    _, e = np.frexp(np.where(nz, x, 1).astype(np.float64))
    n[nz] = 32 - e[nz].astype(np.int64)
    return n if n.ndim else n[()]


# -- QuantizeMultiplier ----------------------------------------------------------------
def quantize_multiplier(real) -> tuple[np.ndarray, np.ndarray]:
    """``QuantizeMultiplier(double, int32*, int*)`` (quantization_util.cc), elementwise.

    ``real ≈ M0 · 2^(shift − 31)`` with ``M0`` in ``[2^30, 2^31)``: ``frexp`` gives
    ``q ∈ [0.5, 1)``, ``M0 = TfLiteRound(q · 2^31)``; if rounding reaches ``2^31`` it is
    halved and ``shift`` incremented; a shift below −31 flushes to ``(0, 0)``; a zero
    multiplier is ``(0, 0)``. Returns ``(M0, shift)`` as int64 arrays of ``real``'s shape.
    """
    real = np.asarray(real, np.float64)
    q, shift = np.frexp(real)
    shift = shift.astype(np.int64)
    q_fixed = round_half_away(q * float(1 << 31)).astype(np.int64)
    over = q_fixed == (1 << 31)
    q_fixed = np.where(over, q_fixed // 2, q_fixed)
    shift = np.where(over, shift + 1, shift)
    tiny = shift < -31
    q_fixed = np.where(tiny, 0, q_fixed)
    shift = np.where(tiny | (real == 0), 0, shift)
    q_fixed = np.where(real == 0, 0, q_fixed)
    if np.any(q_fixed > INT32_MAX):  # pragma: no cover - excluded by the frexp range
        raise ValueError("QuantizeMultiplier: multiplier does not fit int32")
    return q_fixed, shift


def quantize_multiplier_scalar(real: float) -> tuple[int, int]:
    """Scalar convenience wrapper of :func:`quantize_multiplier` returning Python ints."""
    m, s = quantize_multiplier(float(real))
    return int(m), int(s)


# -- gemmlowp primitives ---------------------------------------------------------------
def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32 (ARM ``VQRDMULH``).

    gemmlowp computes ``(a·b + nudge) / 2^31`` with C's truncating division and a nudge of
    ``2^30`` for a non-negative product, ``1 − 2^30`` for a negative one. Both cases equal
    ``floor((a·b + 2^30) / 2^31)`` — round to nearest with ties toward +inf — which is what
    is computed here with an arithmetic shift; ``INT32_MIN · INT32_MIN`` saturates to
    ``INT32_MAX``.
    """
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    high = (a * b + (1 << 30)) >> 31  # |a·b| <= 2^62: exact in int64
    if np.any(b == INT32_MIN):  # multipliers are never INT32_MIN: skip the check then
        high = np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)
    return high


def saturating_rounding_doubling_high_mul_int16(a, b) -> np.ndarray:
    """The int16 specialisation of SRDHM (Q0.15 operands, nudge ``2^14``)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    overflow = (a == b) & (a == -32768)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    high = c_div(ab + nudge, 1 << 15)
    # the C code casts the int32 quotient to int16; only -1*-1 (handled) can overflow
    return np.where(overflow, 32767, high)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: ``x / 2^exponent`` rounded, ties away from zero.

    gemmlowp adds one to the arithmetic shift when ``x & mask`` exceeds
    ``(mask >> 1) + (x < 0)``; for ``exponent >= 1`` that equals
    ``(x + 2^(exponent−1) − (x < 0)) >> exponent``, computed here. ``exponent`` in
    ``[0, 31]`` (may be an array, e.g. per-channel shifts).
    """
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    if np.any(exponent < 0) or np.any(exponent > 63):
        raise ValueError(f"RoundingDivideByPOT: exponent out of range: {exponent}")
    positive = exponent > 0
    half = np.where(positive, np.int64(1) << np.maximum(exponent - 1, 0), 0)
    return (x + half - ((x < 0) & positive)) >> exponent


def saturating_rounding_multiply_by_pot(x, exponent: int, bits: int = 32) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingMultiplyByPOT<exponent>`` on a ``bits``-wide raw value.

    Positive exponent: saturating left shift; negative: :func:`rounding_divide_by_pot`.
    """
    x = np.asarray(x, np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    threshold = (1 << (bits - 1 - exponent)) - 1
    y = x << exponent
    y = np.where(x > threshold, hi, y)
    return np.where(x < -threshold, lo, y)


# -- MultiplyByQuantizedMultiplier -----------------------------------------------------
def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int32 x, int32 M, int shift)`` (double rounding).

    ``left = max(shift, 0)``, ``right = max(-shift, 0)``;
    ``RoundingDivideByPOT(SRDHM(x · 2^left, M), right)``. ``x`` holds int32 values;
    ``x · 2^left`` wraps like the C int32 multiplication it ports. ``multiplier``/``shift`` broadcast against ``x``
    (per-channel requantization passes them shaped for the channel axis).
    """
    x = np.asarray(x, np.int64)
    shift = np.asarray(shift, np.int64)
    if np.any(shift > 0):
        x = wrap_int32(x << np.maximum(shift, 0))
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier),
                                  np.maximum(-shift, 0))


def multiply_by_quantized_multiplier_int64(x, multiplier, shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int64 x, int32 M, int shift)`` (common.cc).

    The variant used by the 16x8 kernels (int64 accumulators): the multiplier is reduced
    to 16 bits with rounding (``(M + 2^15) >> 16``, capped at ``0x7FFF`` for
    ``M ≥ 0x7FFF0000``), then ``(x · M16 + 2^(total−1)) >> total`` with
    ``total = 15 − shift`` (single rounding, ties toward +inf), cast to int32 (wraps).
    Valid for ``|x| < 2^47`` and ``shift ∈ [−31, 7]``, as the C code asserts.
    """
    x = np.asarray(x, np.int64)
    multiplier = np.asarray(multiplier, np.int64)
    shift = np.asarray(shift, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    y = x * reduced + (np.int64(1) << (total - 1))
    return wrap_int32(y >> total)


def multiply_by_quantized_multiplier_smaller_than_one_exp(x, multiplier, left_shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierSmallerThanOneExp`` (double rounding, shift ≤ 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier),
                                  -np.asarray(left_shift, np.int64))


def multiply_by_quantized_multiplier_greater_than_one(x, multiplier, left_shift) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierGreaterThanOne``: ``SRDHM(x · 2^left_shift, M)``."""
    x = np.asarray(x, np.int64)
    return saturating_rounding_doubling_high_mul(
        wrap_int32(x << np.asarray(left_shift, np.int64)), multiplier)


# -- activation ranges ---------------------------------------------------------------------
def quantize_float_to_int(value: float, scale: float, zero_point: int) -> int:
    """``zero_point + static_cast<int32>(TfLiteRound(value / scale))`` in float32.

    The helper ``CalculateActivationRangeQuantizedImpl`` (kernel_util.cc) uses: the
    division is done in float like the C code (``float / float``).
    """
    q = round_half_away(np.float32(value) / np.float32(scale))
    return int(zero_point) + int(q)


def calculate_activation_range_quantized(act_min: float | None, act_max: float | None,
                                         scale: float, zero_point: int,
                                         qmin: int, qmax: int) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` (kernel_util.cc) for a fused clamp.

    ``act_min``/``act_max`` are the float clamp bounds (None = unbounded, as for
    ``kTfLiteActNone``/the upper side of ReLU); the result is intersected with the
    storage range ``[qmin, qmax]``.
    """
    lo, hi = qmin, qmax
    if act_min is not None and np.isfinite(act_min):
        lo = max(qmin, quantize_float_to_int(act_min, scale, zero_point))
    if act_max is not None and np.isfinite(act_max):
        hi = min(qmax, quantize_float_to_int(act_max, scale, zero_point))
    return lo, hi


# TFLite spellings (the names the reference kernels use)
QuantizeMultiplier = quantize_multiplier
SaturatingRoundingDoublingHighMul = saturating_rounding_doubling_high_mul
RoundingDivideByPOT = rounding_divide_by_pot
MultiplyByQuantizedMultiplier = multiply_by_quantized_multiplier
MultiplyByQuantizedMultiplierInt64 = multiply_by_quantized_multiplier_int64
CalculateActivationRangeQuantized = calculate_activation_range_quantized
