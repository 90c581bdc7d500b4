"""Lookup tables of TFLite's LUT-based integer kernels (kernels/internal/common.h).

* :func:`lut_int8` — ``LUTPopulateInt8``: for each int8 value ``q``, in float32:
  ``x = s_in · (q − zp_in)``, ``y = f(x)``, ``TfLiteRound(y · (1 / s_out)) + zp_out``
  (the float is truncated to int32), clamped. Used by LOGISTIC, TANH and GELU int8.
* :func:`lut_int16` — ``LUTPopulateInt16`` (513 entries: 512 segments of the int16 range
  and an end point, each sample corrected by half the midpoint interpolation error);
  :func:`lut_lookup_int16` — ``LUTLookup``: the high 9 bits index, the low 7 bits
  interpolate. Used by int16 SOFTMAX.

The transcendental functions are called through the C math library with ctypes (the
same ``expf``/``tanhf``/``erfcf``/``exp`` LiteRT calls), so a table entry that lands on
a rounding tie is decided exactly as LiteRT decides it. Without a loadable libm, numpy's
double-precision functions rounded to float32 are used instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from functools import lru_cache
from typing import Callable

import numpy as np

from edgeq.quantize.arith.fixed_point import round_half_away


@lru_cache(maxsize=None)
def _libm():
    name = ctypes.util.find_library("m")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:  # pragma: no cover - platform without a C math library
        lib = None
    if lib is None:  # pragma: no cover
        return None
    for fn in ("expf", "tanhf", "erfcf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    lib.exp.restype = ctypes.c_double
    lib.exp.argtypes = [ctypes.c_double]
    return lib


def _f32_elementwise(name: str, fallback: Callable[[np.ndarray], np.ndarray]):
    def fn(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        lib = _libm()
        if lib is None:  # pragma: no cover
            return fallback(x.astype(np.float64)).astype(np.float32)
        f = getattr(lib, name)
        return np.array([f(float(v)) for v in x.ravel()], np.float32).reshape(x.shape)
    return fn


expf = _f32_elementwise("expf", np.exp)
tanhf = _f32_elementwise("tanhf", np.tanh)
erfcf = _f32_elementwise("erfcf", lambda x: np.vectorize(math.erfc)(x))


def exp_f64(x: np.ndarray) -> np.ndarray:
    """``std::exp(double)`` elementwise."""
    x = np.asarray(x, np.float64)
    lib = _libm()
    if lib is None:  # pragma: no cover
        return np.exp(x)
    return np.array([lib.exp(float(v)) for v in x.ravel()], np.float64).reshape(x.shape)


def lut_int8(s_in, zp_in: int, s_out, zp_out: int, transform, dtype=np.int8) -> np.ndarray:
    """The 256-entry table of ``LUTPopulateInt8``, indexed by ``q − iinfo(dtype).min``."""
    info = np.iinfo(dtype)
    q = np.arange(info.min, info.max + 1, dtype=np.int64)
    x = np.float32(s_in) * (q - zp_in).astype(np.float32)  # float * int in C: float32
    y = transform(x).astype(np.float32)
    inverse = np.float32(1) / np.float32(s_out)
    rescaled = round_half_away(y * inverse)
    # static_cast<int32_t>(rescaled + output_zero_point): a float add, then truncation
    quantized = np.trunc(rescaled + np.float32(zp_out)).astype(np.int64)
    return np.clip(quantized, info.min, info.max).astype(dtype)


def lookup_int8(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    return table[x.astype(np.int64) - np.iinfo(x.dtype).min]


def lut_int16(input_scale: float, input_zp: int, output_scale: float, output_zp: int,
              transform: Callable[[np.ndarray], np.ndarray], ftype=np.float64) -> np.ndarray:
    """``LUTPopulateInt16<FloatT>``: 513 int16 entries; every operation in ``ftype``
    (float64 for the deprecated double overload SOFTMAX uses, float32 otherwise)."""
    f = ftype
    input_min = f(input_scale) * f(-32768 - input_zp)
    input_max = f(input_scale) * f(32767 - input_zp)
    output_min = f(output_scale) * f(-32768 - output_zp)
    output_max = f(output_scale) * f(32767 - output_zp)
    steps = 512
    step = (input_max - input_min) / f(steps)
    half_step = step / f(2)
    inv = f(65536) / (output_max - output_min)
    i = np.arange(steps).astype(f)
    base = input_min + i * step
    val = transform(base).astype(f)
    val_mid = transform(base + half_step).astype(f)
    val_next = transform(input_min + (i + f(1)) * step).astype(f)
    sample = round_half_away(val * inv)
    mid_interp = round_half_away((val_next * inv + round_half_away(val * inv)) / f(2))
    mid = round_half_away(val_mid * inv)
    bias = round_half_away((mid_interp - mid) / f(2))
    lut = np.empty(steps + 1, np.int64)
    lut[:steps] = np.clip(sample - bias, f(-32768), f(32767)).astype(np.int64)
    last = round_half_away(transform(np.array([input_max], f)).astype(f)[0] * inv)
    lut[steps] = int(np.clip(last, f(-32768), f(32767)))
    return lut.astype(np.int16)


def lut_lookup_int16(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``LUTLookup(int16, lut)``: base + ((slope · offset + 64) >> 7)."""
    v = np.asarray(value, np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    lut = lut.astype(np.int64)
    base = lut[index]
    slope = lut[index + 1] - base
    return (base + ((slope * offset + 64) >> 7)).astype(np.int16)
