"""FullyConnected kernel: goldens and LiteRT bit-exactness (int8, 16x8, per-tensor)."""

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, fb, opts
from _qgraph import In, qp, run


def fc(x, w, b, qx, qw, qo, **attrs):
    ins = [In(x, qx), In(w, qw, const=True), None if b is None else In(b, None, const=True)]
    return run("FullyConnected", ins, [x.shape[:-1] + (w.shape[0],)], [qo], **attrs)[0]


def test_golden_per_channel():
    # row0: 1*(3-1) + 2*(5-1) = 10, +bias 2 = 12, * (0.5*0.5/1.0) = 3 -> +zp 4 = 7
    # row1: -1*2 + 1*4 = 2, * (0.5*0.25/1.0) = 0.25 -> 0 -> 4
    x = np.array([[3, 5]], np.int8)
    w = np.array([[1, 2], [-1, 1]], np.int8)
    y = fc(x, w, np.array([2, 0], np.int32), qp(0.5, 1), qp([0.5, 0.25], 0, axis=0), qp(1.0, 4))
    assert y.tolist() == [[7, 4]]


def test_golden_per_tensor_weight_offset():
    # per-tensor weights may carry a zero point: (w - zp_w) * (x - zp_in)
    x = np.array([[2, 2]], np.int8)
    w = np.array([[3, 5]], np.int8)
    y = fc(x, w, None, qp(1.0, 0), qp(1.0, 1), qp(1.0, 0))
    assert y.tolist() == [[(3 - 1) * 2 + (5 - 1) * 2]]


def test_keeps_leading_dims_and_clamps():
    x = np.full((2, 3, 4), 100, np.int8)
    w = np.full((5, 4), 100, np.int8)
    y = fc(x, w, None, qp(0.1, 0), qp([0.1] * 5, 0, axis=0), qp(0.1, 0), act_min=0.0, act_max=6.0)
    assert y.shape == (2, 3, 5) and np.all(y == 60)


ACT = {None: fb.ActivationFunctionType.NONE, "relu6": fb.ActivationFunctionType.RELU6}


def _litert_fc(x, w, b, sx, zx, ws, zw, so, zo, dtype, act=None, btype=None):
    bias_t = None
    if b is not None:
        bscale = (np.float64(sx) * np.atleast_1d(ws).astype(np.float64)).astype(np.float32)
        bias_t = T(b.shape, b.dtype, bscale, 0, data=b)
    o = opts("FullyConnectedOptions", fusedActivationFunction=ACT[act], keepNumDims=True,
             quantizedBiasType=btype or 0)
    model = lt.build("FULLY_CONNECTED",
                     [T(x.shape, dtype, sx, zx), T(w.shape, np.int8, ws, zw, axis=0, data=w), bias_t],
                     [T(x.shape[:-1] + (w.shape[0],), dtype, so, zo)], options=o,
                     version=7 if dtype == np.int16 else 5)
    return lt.run(model, [x])[0]


@pytest.mark.parametrize("per_channel, act, with_bias", [
    (True, None, True), (True, "relu6", True), (False, None, True), (True, None, False)])
def test_int8_matches_litert(per_channel, act, with_bias):
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, (3, 5, 40)).astype(np.int8)
    w = rng.integers(-127, 128, (24, 40)).astype(np.int8)
    ws = rng.uniform(0.001, 0.01, 24).astype(np.float32) if per_channel else np.float32(0.0043)
    b = rng.integers(-5000, 5000, 24).astype(np.int32) if with_bias else None
    sx, zx, so, zo = 0.037, -7, 0.21, 11
    attrs = {"act_min": 0.0, "act_max": 6.0} if act == "relu6" else {}
    got = fc(x, w, b, qp(sx, zx), qp(ws, 0, axis=0 if per_channel else None), qp(so, zo), **attrs)
    want = _litert_fc(x, w, b, sx, zx, ws, 0, so, zo, np.int8, act)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bias_dtype", [np.int64, np.int32])
def test_int16_matches_litert(bias_dtype):
    rng = np.random.default_rng(8)
    x = rng.integers(-32768, 32768, (4, 64)).astype(np.int16)
    w = rng.integers(-127, 128, (16, 64)).astype(np.int8)
    ws = rng.uniform(0.001, 0.01, 16).astype(np.float32)
    b = rng.integers(-200000, 200000, 16).astype(bias_dtype)
    sx, so = 2e-4, 1.5e-2
    got = fc(x, w, b, qp(sx, 0, "int16"), qp(ws, 0, axis=0), qp(so, 0, "int16"))
    btype = fb.TensorType.INT64 if bias_dtype == np.int64 else fb.TensorType.INT32
    want = _litert_fc(x, w, b, sx, 0, ws, 0, so, 0, np.int16, btype=btype)
    np.testing.assert_array_equal(got, want)


def test_reference_fc_rounds_once():
    # eff = 0.5 * 0.5 / 1.0 = 0.25 and acc = 5: round(1.25) = 1 in LiteRT's reference FC,
    # while MultiplyByQuantizedMultiplier would round twice (2.5 -> 3, / 2 -> 2)
    y = fc(np.array([[5]], np.int8), np.array([[1]], np.int8), None, qp(0.5, 0),
           qp([0.5], 0, axis=0), qp(1.0, 0))
    assert y.tolist() == [[1]]
    x = np.array([[5]], np.int8)
    want = _litert_fc(x, np.array([[1]], np.int8), None, 0.5, 0, np.float32([0.5]), 0, 1.0, 0, np.int8)
    assert want.tolist() == [[1]]


@pytest.mark.parametrize("seed", range(4))
def test_int8_many_random_layers_match_litert_and_xnnpack_within_one_lsb(seed):
    rng = np.random.default_rng(100 + seed)
    k, n = int(rng.integers(8, 300)), int(rng.integers(1, 64))
    x = rng.integers(-128, 128, (16, k)).astype(np.int8)
    w = rng.integers(-127, 128, (n, k)).astype(np.int8)
    ws = rng.uniform(1e-4, 0.02, n).astype(np.float32)
    b = rng.integers(-20000, 20000, n).astype(np.int32)
    sx, zx = float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    so, zo = float(rng.uniform(0.01, 1.0)), int(rng.integers(-128, 128))
    got = fc(x, w, b, qp(sx, zx), qp(ws, 0, axis=0), qp(so, zo))
    np.testing.assert_array_equal(got, _litert_fc(x, w, b, sx, zx, ws, 0, so, zo, np.int8))
    bscale = (np.float64(np.float32(sx)) * ws.astype(np.float64)).astype(np.float32)
    model = lt.build("FULLY_CONNECTED", [T(x.shape, np.int8, sx, zx),
                                         T(w.shape, np.int8, ws, 0, axis=0, data=w),
                                         T(b.shape, np.int32, bscale, 0, data=b)],
                     [T((16, n), np.int8, so, zo)], options=opts("FullyConnectedOptions"), version=5)
    fast = lt.run(model, [x], reference=False)[0]
    assert np.abs(got.astype(int) - fast.astype(int)).max() <= 1
