"""Quantize / Dequantize kernels: hand-derived goldens and bit-exactness with LiteRT."""

import numpy as np
import pytest

from _qgraph import In, qp, run
import _litert_single_op as lt
from _litert_single_op import T


def quantize(x, out_q, in_q=None):
    return run("Quantize", [In(x, in_q)], [np.shape(x)], [out_q])[0]


def dequantize(x, in_q):
    return run("Dequantize", [In(x, in_q)], [np.shape(x)], [None])[0]


# -- goldens ---------------------------------------------------------------------------
def test_float_to_int8_rounds_half_away_from_zero():
    # 0.25 / 0.5 = 0.5 -> 1; -0.25 -> -1; 0.75 -> 1.5 -> 2; -0.75 -> -2 (np.round would give 0, 0, 2, -2)
    x = np.array([0.25, -0.25, 0.75, -0.75, 1.25], np.float32)
    assert quantize(x, qp(0.5, 0)).tolist() == [1, -1, 2, -2, 3]


def test_float_to_int8_zero_point_and_saturation():
    x = np.array([0.0, 100.0, -100.0, 1.0], np.float32)
    assert quantize(x, qp(0.1, -128)).tolist() == [-128, 127, -128, -118]
    assert quantize(x, qp(0.1, 127)).tolist() == [127, 127, -128, 127]


def test_float_to_int16():
    x = np.array([0.5, -0.5, 3.0], np.float32)
    assert quantize(x, qp(1 / 32768, 0, "int16")).tolist() == [16384, -16384, 32767]


def test_requantize_int8_to_int8_goldens():
    # s_in/s_out = 0.2f/0.1f = 0.5 exactly -> M = 2^30, shift 0: SRDHM of (q - zp_in)
    # rounds its ties half up: -127 * 0.5 = -63.5 -> -63, 1 * 0.5 -> 1
    x = np.array([-128, -3, -1, 0, 1, 3, 127], np.int8)
    y = quantize(x, qp(0.2, 5), in_q=qp(0.1, -1))
    assert y.tolist() == [5 - 63, 5 - 1, 5, 5 + 1, 6, 7, 69]


def test_dequantize_goldens():
    assert dequantize(np.array([-128, 0, 127], np.int8), qp(0.5, -2)).tolist() == [-63.0, 1.0, 64.5]
    assert dequantize(np.array([-32768, 2], np.int16), qp(0.25, 0, "int16")).tolist() == [-8192.0, 0.5]


def test_per_channel_dequantize():
    q = np.array([[1, 2], [3, 4]], np.int8)
    y = dequantize(q, qp([0.5, 2.0], [0, 1], axis=1))
    assert y.tolist() == [[0.5, 2.0], [1.5, 6.0]]


# -- LiteRT ------------------------------------------------------------------------------
CASES = [(0.1, 0), (0.0173, -128), (0.02, 17), (1 / 255, 127), (3.7e-5, -3), (12.5, 0)]


@pytest.mark.parametrize("scale, zp", CASES)
def test_float_to_int8_matches_litert(scale, zp):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(1000) * 130 * scale).astype(np.float32)
    # exact ties and the int32 conversion edge cases
    ties = ((np.arange(-40, 40) + 0.5) * np.float32(scale)).astype(np.float32)
    x = np.concatenate([x, ties, np.float32([1e30, -1e30, np.inf, -np.inf, 0.0, -0.0])])
    model = lt.build("QUANTIZE", [T(x.shape, np.float32)], [T(x.shape, np.int8, scale, zp)])
    want = lt.run(model, [x])[0]
    np.testing.assert_array_equal(quantize(x, qp(scale, zp)), want)


@pytest.mark.parametrize("scale", [1e-4, 1 / 32768, 0.003])
def test_float_to_int16_matches_litert(scale):
    x = (np.random.default_rng(1).standard_normal(2000) * 20000 * scale).astype(np.float32)
    model = lt.build("QUANTIZE", [T(x.shape, np.float32)], [T(x.shape, np.int16, scale, 0)])
    np.testing.assert_array_equal(quantize(x, qp(scale, 0, "int16")), lt.run(model, [x])[0])


@pytest.mark.parametrize("src, dst", [
    ((np.int8, 0.05, -7), (np.int8, 0.031, 12)),
    ((np.int8, 0.05, -7), (np.int8, 0.5, 0)),
    ((np.int8, 0.05, 100), (np.int8, 0.0013, -128)),   # large multiplier, saturates
    ((np.int16, 0.001, 0), (np.int8, 0.02, 3)),
    ((np.int16, 0.001, 0), (np.int16, 0.0007, 0)),
    ((np.int16, 3e-5, 0), (np.int16, 0.9, 0)),         # tiny multiplier, large right shift
])
def test_requantize_matches_litert(src, dst):
    (sd, ss, sz), (dd, ds, dz) = src, dst
    info = np.iinfo(sd)
    x = np.arange(info.min, info.max + 1, 1 if sd == np.int8 else 7).astype(sd)
    model = lt.build("QUANTIZE", [T(x.shape, sd, ss, sz)], [T(x.shape, dd, ds, dz)])
    want = lt.run(model, [x])[0]
    got = quantize(x, qp(ds, dz, np.dtype(dd).name), in_q=qp(ss, sz, np.dtype(sd).name))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype, scale, zp", [(np.int8, 0.0371, -9), (np.int16, 0.000123, 0)])
def test_dequantize_matches_litert(dtype, scale, zp):
    info = np.iinfo(dtype)
    x = np.arange(info.min, info.max + 1).astype(dtype)
    model = lt.build("DEQUANTIZE", [T(x.shape, dtype, scale, zp)], [T(x.shape, np.float32)])
    want = lt.run(model, [x])[0]
    np.testing.assert_array_equal(dequantize(x, qp(scale, zp, np.dtype(dtype).name)), want)
