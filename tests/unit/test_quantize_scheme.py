"""The quantization scheme: hand-derived params (TFLite's GetAsymmetricQuantizationParams),
zero representable, symmetric int16, per-channel weights with MSE clipping, int32 bias."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import QuantizationError
from edgeq.quantize.arith import scheme
from edgeq.types import QDType


def test_round_half_away_from_zero():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.4999])
    np.testing.assert_array_equal(scheme.round_half_away(x), [1, 2, 3, -1, -2, -3, 2, -2])


def test_asymmetric_int8_params_hand_derived():
    # [-1, 3]: scale = 4/255, zero point = round(-128 - (-1)/(4/255)) = round(-64.25) = -64
    p = scheme.activation_params(-1.0, 3.0)
    assert p.dtype == QDType.INT8 and p.axis is None
    assert np.isclose(p.scale[0], 4 / 255)
    assert int(p.zero_point[0]) == -64


@pytest.mark.parametrize("lo,hi", [(-1.0, 3.0), (2.0, 5.0), (-3.0, -1.0), (-0.001, 1000.0), (-7.3, 0.2)])
def test_zero_is_exactly_representable(lo, hi):
    p = scheme.activation_params(lo, hi)
    q = p.quantize(np.array([0.0]))
    assert p.dequantize(q)[0] == 0.0
    assert p.dtype.qmin <= int(p.zero_point[0]) <= p.dtype.qmax


def test_ranges_are_widened_to_contain_zero():
    assert int(scheme.activation_params(2.0, 5.0).zero_point[0]) == -128  # [0, 5]
    assert int(scheme.activation_params(-3.0, -1.0).zero_point[0]) == 127  # [-3, 0]
    lo, hi = scheme.params_range(scheme.activation_params(2.0, 5.0))
    assert lo == 0.0 and np.isclose(hi, 5.0)


def test_symmetric_int16_params():
    p = scheme.activation_params(-1.0, 3.0, QDType.INT16)
    assert np.isclose(p.scale[0], 3.0 / 32767) and int(p.zero_point[0]) == 0
    q = p.quantize(np.array([3.0, -3.0, 0.0]))
    np.testing.assert_array_equal(q, [32767, -32767, 0])


def test_degenerate_and_non_finite_ranges():
    p = scheme.activation_params(0.0, 0.0)
    assert p.scale[0] > 0
    with pytest.raises(QuantizationError, match="non-finite range"):
        scheme.activation_params(-np.inf, 1.0)


def test_per_channel_weights_are_symmetric_and_bounded():
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(6, 4, 3, 3)) * np.arange(1, 7)[:, None, None, None]).astype(np.float32)
    for clip in ("max", "mse"):
        p = scheme.weight_params(w, 0, clip)
        assert p.axis == 0 and p.scale.shape == (6,) and np.all(p.zero_point == 0)
        q = scheme.quantize_weight(w, p)
        assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127
    pmax = scheme.weight_params(w, 0, "max")
    np.testing.assert_allclose(pmax.scale, np.abs(w).reshape(6, -1).max(axis=1) / 127, rtol=1e-6)


def _channel_mse(w, p):
    deq = p.dequantize(scheme.quantize_weight(w, p)).astype(np.float64)
    return ((deq - w) ** 2).reshape(w.shape[0], -1).sum(axis=1)


def test_mse_clipping_never_worse_than_max_per_channel():
    rng = np.random.default_rng(1)
    w = rng.laplace(size=(16, 4096)).astype(np.float32)  # many values, long tails: clipping pays
    e_max = _channel_mse(w, scheme.weight_params(w, 0, "max"))
    e_mse = _channel_mse(w, scheme.weight_params(w, 0, "mse"))
    assert np.all(e_mse <= e_max * (1 + 1e-9))
    assert e_mse.sum() < e_max.sum()


def test_per_tensor_weights():
    w = np.array([[1.0, -2.0], [0.5, 4.0]], np.float32)
    p = scheme.weight_params(w, None, "max")
    assert p.axis is None and np.isclose(p.scale[0], 4.0 / 127)


def test_bias_quantization_and_overflow():
    wp = scheme.weight_params(np.array([[1.0], [0.5]], np.float32), 0, "max")
    b = np.array([0.3, -0.7], np.float32)
    q, scale = scheme.quantize_bias(b, 0.02, wp, int64=False)
    expected_scale = 0.02 * wp.scale.astype(np.float64)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-6)
    np.testing.assert_array_equal(q, scheme.round_half_away(b / expected_scale))
    assert q.dtype == np.int32
    with pytest.raises(QuantizationError, match="bias 'b_big'.*overflows int32"):
        scheme.quantize_bias(np.array([1e6, 0.0], np.float32), 1e-6, wp, int64=False, name="b_big")
    q64, _ = scheme.quantize_bias(np.array([1e6, 0.0], np.float32), 1e-6, wp, int64=True)
    assert q64.dtype == np.int64


def test_levels():
    assert scheme.levels(QDType.INT8, False) == 255
    assert scheme.levels(QDType.INT16, True) == 65534


def test_near_zero_weight_channel_overflowed_the_bias_before_widening():
    # PP-OCRv4 rec: a channel with weights ~1e-18 and bias -1.417e-09 had a bias scale
    # of ~5e-20; quantizing the bias at that scale overflows int32
    w = np.ones((3, 4), np.float32) * 0.1
    w[1] = 3e-18
    wp = scheme.weight_params(w, 0)
    b = np.array([0.2, -1.417e-09, 0.0], np.float32)
    with pytest.raises(QuantizationError, match=r"bias 'conv2d_169.b_0': channel 1 value "
                                                r"-1.417e-09 overflows int32 at scale [0-9.]+e-2[0-9]; the input "
                                                r"or weight range is degenerate"):
        scheme.quantize_bias(b, 0.02, wp, int64=False, name="conv2d_169.b_0")
    safe = scheme.widen_for_bias(wp, b, 0.02, int64=False)
    assert safe is not None
    # only the degenerate channel moves; the others keep their scale exactly
    assert safe.scale[0] == wp.scale[0] and safe.scale[2] == wp.scale[2]
    assert safe.scale[1] > wp.scale[1]
    q, scale = scheme.quantize_bias(b, 0.02, safe, int64=False)
    assert abs(int(q[1])) <= scheme.BIAS_HEADROOM * np.iinfo(np.int32).max + 1
    # the bias still dequantizes to itself, and the tiny weights become exact zeros
    np.testing.assert_allclose(q * scale.astype(np.float64), b, rtol=1e-5, atol=1e-12)
    assert not np.any(scheme.quantize_weight(w, safe)[1])
    np.testing.assert_array_equal(scheme.quantize_weight(w, safe)[[0, 2]],
                                  scheme.quantize_weight(w, wp)[[0, 2]])


def test_widen_for_bias_leaves_ordinary_channels_alone():
    w = np.random.default_rng(0).normal(size=(4, 9)).astype(np.float32)
    wp = scheme.weight_params(w, 0)
    assert scheme.widen_for_bias(wp, np.array([0.5, -2.0, 0.0, 3.0]), 0.01, int64=False) is None
    # an all-zero channel already has scale 1.0 (weight_params), so any bias fits
    w[2] = 0.0
    wp = scheme.weight_params(w, 0)
    assert wp.scale[2] == 1.0
    assert scheme.widen_for_bias(wp, np.array([0.5, -2.0, 7.0, 3.0]), 0.01, int64=False) is None
