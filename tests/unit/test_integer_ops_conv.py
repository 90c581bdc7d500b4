"""Conv kernel (CONV_2D / DEPTHWISE_CONV_2D): goldens, edge cases, LiteRT bit-exactness."""

import zlib

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, fb, opts
from _qgraph import In, qp, run


def conv(x, w, b, qx, qw, qo, **attrs):
    n, _, h, wd = x.shape
    out_shape = None  # the kernel derives it; the graph shape is informative only
    return run("Conv", [In(x, qx), In(w, qw, const=True), None if b is None else In(b, None, const=True)],
               [out_shape or (n, w.shape[0], h, wd)], [qo], **attrs)[0]


# -- goldens ---------------------------------------------------------------------------
def test_1x1_conv_golden():
    # acc = 2*(10-(-2)) + 3*(4-(-2)) + bias 6 = 48; m = 0.5*0.25/1.5 -> 48/12 = 4 -> +zp 1 = 5
    x = np.array([10, 4], np.int8).reshape(1, 2, 1, 1)
    w = np.array([[2, 3]], np.int8).reshape(1, 2, 1, 1)
    b = np.array([6], np.int32)
    y = conv(x, w, b, qp(0.5, -2), qp([0.25], 0, axis=0), qp(1.5, 1))
    assert y.ravel().tolist() == [5]


def test_padding_taps_contribute_as_zero_point():
    # a 3x3 all-ones kernel over a 1x1 input padded by 1: only the centre tap is inside
    x = np.full((1, 1, 1, 1), 7, np.int8)
    w = np.ones((1, 1, 3, 3), np.int8)
    y = conv(x, w, None, qp(1.0, 5), qp([1.0], 0, axis=0), qp(1.0, 0), pads=[1, 1, 1, 1])
    assert y.ravel().tolist() == [2]  # (7 - 5) * 1, padding adds nothing


def test_fused_relu6_clamp_and_saturation():
    x = np.array([127, -128], np.int8).reshape(1, 2, 1, 1)
    w = np.array([[127, 0], [0, 127], [-127, 0]], np.int8).reshape(3, 2, 1, 1)
    y = conv(x, w, None, qp(0.1, 0), qp([0.01, 0.01, 0.01], 0, axis=0), qp(0.05, -10),
             act_min=0.0, act_max=6.0)
    # ch0: 127*127*0.001/0.05 = 322.6 -> clamp to ReLU6 top: -10 + round(6/0.05)=110
    # ch1: -128*127*0.02 = -325 -> ReLU low bound = zp = -10; ch2: -322.6 -> -10
    assert y.ravel().tolist() == [110, -10, -10]


def test_int32_accumulator_wraps_like_c():
    # 2 * 127 * 255 * 33000 overflows nothing; force a wrap with a huge bias instead
    x = np.zeros((1, 1, 1, 1), np.int8)
    w = np.ones((1, 1, 1, 1), np.int8)
    b = np.array([2 ** 31 - 1], np.int32)
    y = conv(x + 1, w, b, qp(1.0, 0), qp([1.0], 0, axis=0), qp(2.0 ** 24, 0))
    # 1 + (2^31 - 1) wraps to INT32_MIN; * 2^-24 = -128
    assert y.ravel().tolist() == [-128]


def test_rejects_asymmetric_weights_and_bad_dtypes():
    from edgeq.errors import UnsupportedOpError
    x = np.zeros((1, 1, 2, 2), np.int8)
    w = np.ones((1, 1, 1, 1), np.int8)
    with pytest.raises(UnsupportedOpError, match="symmetric"):
        conv(x, w, None, qp(1.0), qp([1.0], [3], axis=0), qp(1.0))
    with pytest.raises(UnsupportedOpError, match="n0.*Conv"):
        conv(x.astype(np.float32), w, None, qp(1.0), qp([1.0], axis=0), qp(1.0))


# -- LiteRT ------------------------------------------------------------------------------
ACT = {None: fb.ActivationFunctionType.NONE, "relu": fb.ActivationFunctionType.RELU,
       "relu6": fb.ActivationFunctionType.RELU6}
ACT_ATTRS = {None: {}, "relu": {"act_min": 0.0}, "relu6": {"act_min": 0.0, "act_max": 6.0}}


def _same_pads(size, k, s, d):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _case(rng, *, dtype, cin, cout, k, stride, dil, same, depthwise, act, groups=1, bias64=False):
    h, wd = 9, 7
    x = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, (2, cin, h, wd)).astype(dtype)
    cw = 1 if depthwise else cin // groups
    w = rng.integers(-127, 128, (cout, cw, k, k)).astype(np.int8)
    sx = 0.02 if dtype == np.int8 else 3e-4
    zx = int(rng.integers(-20, 20)) if dtype == np.int8 else 0
    ws = (rng.uniform(0.002, 0.02, cout)).astype(np.float32)
    so = 0.05 if dtype == np.int8 else 2e-3
    zo = int(rng.integers(-30, 30)) if dtype == np.int8 else 0
    btype = np.int64 if bias64 else np.int32
    b = rng.integers(-3000, 3000, cout).astype(btype)
    if same:
        ph, pw = _same_pads(h, k, stride, dil), _same_pads(wd, k, stride, dil)
        pads = [ph[0], pw[0], ph[1], pw[1]]
    else:
        pads = [0, 0, 0, 0]
    attrs = dict(strides=[stride, stride], dilations=[dil, dil], pads=pads,
                 group=cin if depthwise else groups, **ACT_ATTRS[act])
    dname = np.dtype(dtype).name
    got = conv(x, w, b, qp(sx, zx, dname), qp(ws, 0, axis=0), qp(so, zo, dname), **attrs)

    xn = x.transpose(0, 2, 3, 1)
    pad = fb.Padding.SAME if same else fb.Padding.VALID
    btflite = fb.TensorType.INT64 if bias64 else fb.TensorType.INT32
    if depthwise:
        wt = w.transpose(1, 2, 3, 0)  # [1, kh, kw, C*m]
        op, o = "DEPTHWISE_CONV_2D", opts("DepthwiseConv2DOptions", padding=pad, strideW=stride,
                                          strideH=stride, depthMultiplier=cout // cin,
                                          fusedActivationFunction=ACT[act], dilationWFactor=dil,
                                          dilationHFactor=dil)
        wq = T(wt.shape, np.int8, ws, 0, axis=3, data=wt)
    else:
        wt = w.transpose(0, 2, 3, 1)  # OHWI
        op, o = "CONV_2D", opts("Conv2DOptions", padding=pad, strideW=stride, strideH=stride,
                                fusedActivationFunction=ACT[act], dilationWFactor=dil,
                                dilationHFactor=dil,
                                quantizedBiasType=btflite if dtype == np.int16 else 0)
        wq = T(wt.shape, np.int8, ws, 0, axis=0, data=wt)
    out_nhwc = got.transpose(0, 2, 3, 1).shape
    bscale = (np.float64(sx) * ws.astype(np.float64)).astype(np.float32)
    model = lt.build(op, [T(xn.shape, dtype, sx, zx), wq, T(b.shape, btype, bscale, 0, data=b)],
                     [T(out_nhwc, dtype, so, zo)], options=o, version=3 if dtype == np.int8 else 5)
    want = lt.run(model, [xn])[0].transpose(0, 3, 1, 2)
    return got, want


@pytest.mark.parametrize("params", [
    dict(cin=3, cout=8, k=3, stride=1, dil=1, same=True, act=None),
    dict(cin=4, cout=5, k=3, stride=2, dil=1, same=True, act="relu6"),
    dict(cin=6, cout=4, k=2, stride=1, dil=2, same=False, act="relu"),
    dict(cin=8, cout=16, k=1, stride=1, dil=1, same=False, act=None),
    dict(cin=4, cout=6, k=3, stride=1, dil=1, same=True, act=None, groups=2),
    dict(cin=8, cout=8, k=3, stride=1, dil=1, same=True, act="relu6", depthwise=True),
    dict(cin=4, cout=8, k=3, stride=2, dil=1, same=True, act=None, depthwise=True),
    dict(cin=5, cout=5, k=3, stride=1, dil=2, same=False, act=None, depthwise=True),
])
def test_int8_matches_litert(params):
    rng = np.random.default_rng(zlib.crc32(repr(params).encode()))
    got, want = _case(rng, dtype=np.int8, depthwise=params.pop("depthwise", False), **params)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("params", [
    dict(cin=3, cout=8, k=3, stride=1, dil=1, same=True, act=None, bias64=True),
    dict(cin=4, cout=4, k=3, stride=2, dil=1, same=True, act="relu", bias64=False),
    dict(cin=6, cout=6, k=3, stride=1, dil=1, same=True, act=None, depthwise=True, bias64=True),
])
def test_int16_matches_litert(params):
    rng = np.random.default_rng(zlib.crc32(repr(params).encode()))
    got, want = _case(rng, dtype=np.int16, depthwise=params.pop("depthwise", False), **params)
    np.testing.assert_array_equal(got, want)


def test_int16_depthwise_requires_int64_bias_like_litert():
    from edgeq.errors import UnsupportedOpError
    rng = np.random.default_rng(5)
    with pytest.raises(UnsupportedOpError, match="int64 bias"):
        _case(rng, dtype=np.int16, cin=3, cout=6, k=3, stride=1, dil=1, same=True, act=None,
              depthwise=True, bias64=False)
