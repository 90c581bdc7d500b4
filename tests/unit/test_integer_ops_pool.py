"""AveragePool / MaxPool / ReduceMean / GlobalAveragePool: goldens and LiteRT bit-exactness."""

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, fb, opts
from _qgraph import In, qp, run
from edgeq.errors import UnsupportedOpError


def pool(op, x, q, qo=None, **attrs):
    return run(op, [In(x, q)], [None], [qo or q], **attrs)[0]


def mean(x, axes, qi, qo, keepdims=1):
    return run("ReduceMean", [In(x, qi), In(np.array(axes, np.int64), None, const=True)],
               [None], [qo], keepdims=keepdims)[0]


# -- goldens ---------------------------------------------------------------------------
def test_average_pool_rounds_half_away_and_skips_padding():
    x = np.array([[1, 2], [3, 5]], np.int8).reshape(1, 1, 2, 2)
    # 2x2 window with padding 1 on every side, stride 2: corners see one input each
    y = pool("AveragePool", x, qp(1.0), kernel_shape=[2, 2], pads=[1, 1, 1, 1], strides=[2, 2])
    assert y.ravel().tolist() == [1, 2, 3, 5]
    x = np.array([1, 2, -1, -2, 3, 4, -3, -4], np.int8).reshape(1, 2, 1, 4)
    # windows of 2: (1+2)/2 = 1.5 -> 2, (-1-2)/2 = -1.5 -> -2
    y = pool("AveragePool", x, qp(1.0), kernel_shape=[1, 2], strides=[1, 2])
    assert y.ravel().tolist() == [2, -2, 4, -4]


def test_average_pool_requires_same_scale():
    with pytest.raises(UnsupportedOpError, match="identical"):
        pool("AveragePool", np.zeros((1, 1, 2, 2), np.int8), qp(1.0), qp(2.0), kernel_shape=[2, 2])


def test_max_pool_golden_with_padding_and_clamp():
    x = np.array([-128, -100, 7, 50], np.int8).reshape(1, 1, 2, 2)
    y = pool("MaxPool", x, qp(0.5, -128), kernel_shape=[2, 2], pads=[1, 1, 0, 0])
    assert y.ravel().tolist() == [-128, -100, 7, 50]
    y = pool("MaxPool", x, qp(0.5, -100), kernel_shape=[2, 2], act_min=0.0, act_max=6.0)
    assert y.ravel().tolist() == [-88]  # ReLU6 top: -100 + 12


def test_mean_golden():
    # sum = 1+2+3+5 = 11 -> mean 2.75 -> *(0.5/0.25) = 5.5 -> rounds to 6 (+ zp 0)
    x = np.array([1, 2, 3, 5], np.int8).reshape(1, 1, 2, 2)
    assert mean(x, [2, 3], qp(0.5), qp(0.25)).ravel().tolist() == [6]
    # zero points: sum - zp*n
    x = np.array([10, 10, 10, 10], np.int8)
    assert mean(x, [0], qp(1.0, 6), qp(1.0, -3), keepdims=0).tolist() == -3 + 4


# -- LiteRT ------------------------------------------------------------------------------
def _pool_litert(op, x, q, kernel, stride, same, act=fb.ActivationFunctionType.NONE):
    xn = x.transpose(0, 2, 3, 1)
    pad = fb.Padding.SAME if same else fb.Padding.VALID
    o = opts("Pool2DOptions", padding=pad, strideW=stride, strideH=stride, filterWidth=kernel,
             filterHeight=kernel, fusedActivationFunction=act)
    n, h, w, c = xn.shape
    oh = -(-h // stride) if same else (h - kernel) // stride + 1
    ow = -(-w // stride) if same else (w - kernel) // stride + 1
    dtype = x.dtype
    model = lt.build(op, [T(xn.shape, dtype, *q)], [T((n, oh, ow, c), dtype, *q)], options=o,
                     version=3 if dtype == np.int16 else 2)
    return lt.run(model, [xn])[0].transpose(0, 3, 1, 2)


def _pads(h, w, k, s, same):
    if not same:
        return [0, 0, 0, 0]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return [ph // 2, pw // 2, ph - ph // 2, pw - pw // 2]


@pytest.mark.parametrize("op, tfl", [("AveragePool", "AVERAGE_POOL_2D"), ("MaxPool", "MAX_POOL_2D")])
@pytest.mark.parametrize("dtype, q", [(np.int8, (0.05, -7)), (np.int16, (1e-3, 0))])
@pytest.mark.parametrize("kernel, stride, same", [(2, 2, False), (3, 1, True), (3, 2, True), (7, 7, False)])
def test_pool_matches_litert(op, tfl, dtype, q, kernel, stride, same):
    rng = np.random.default_rng(kernel * 10 + stride)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (2, 3, 7, 9)).astype(dtype)
    if kernel == 7:
        x = x[:, :, :, :7]
    got = pool(op, x, qp(*q, np.dtype(dtype).name), kernel_shape=[kernel, kernel],
               strides=[stride, stride], pads=_pads(x.shape[2], x.shape[3], kernel, stride, same))
    np.testing.assert_array_equal(got, _pool_litert(tfl, x, q, kernel, stride, same))


@pytest.mark.parametrize("dtype, qi, qo", [(np.int8, (0.05, -7), (0.02, 3)),
                                           (np.int8, (0.1, 127), (0.1, 127)),
                                           (np.int8, (0.013, -128), (0.7, 0)),
                                           (np.int16, (1e-3, 0), (3e-4, 0))])
@pytest.mark.parametrize("shape, axes, keep", [((2, 5, 6, 7), [2, 3], 1), ((3, 6, 17), [2], 1),
                                               ((3, 6, 17), [2], 0), ((4, 300), [1], 0),
                                               ((2, 3, 4), [0, 2], 1)])
def test_mean_matches_litert(dtype, qi, qo, shape, axes, keep):
    rng = np.random.default_rng(len(shape) * 7 + sum(axes))
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    dname = np.dtype(dtype).name
    got = mean(x, axes, qp(*qi, dname), qp(*qo, dname), keepdims=keep)
    ax = np.array(axes, np.int32)
    model = lt.build("MEAN", [T(x.shape, dtype, *qi), T(ax.shape, np.int32, data=ax)],
                     [T(got.shape, dtype, *qo)], options=opts("ReducerOptions", keepDims=bool(keep)),
                     version=3 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])


def test_global_average_pool_is_mean_over_spatial_axes():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (2, 8, 5, 5)).astype(np.int8)
    g = run("GlobalAveragePool", [In(x, qp(0.05, 1))], [None], [qp(0.03, -2)])[0]
    np.testing.assert_array_equal(g, mean(x, [2, 3], qp(0.05, 1), qp(0.03, -2)))
    assert g.shape == (2, 8, 1, 1)


def test_average_pool_count_include_pad_counts_zero_point_padding():
    # 2x2 window over a 1x1 input padded by 1 at the top/left: 4 taps, 3 of them padding (zp 2)
    x = np.array([[[[10]]]], np.int8)
    y = pool("AveragePool", x, qp(1.0, 2), kernel_shape=[2, 2], pads=[1, 1, 0, 0], count_include_pad=1)
    assert y.ravel().tolist() == [4]  # (10 + 3 * 2) / 4 = 4
    y = pool("AveragePool", x, qp(1.0, 2), kernel_shape=[2, 2], pads=[1, 1, 0, 0])
    assert y.ravel().tolist() == [10]


# -- REDUCE_MAX / REDUCE_MIN / SUM / ARG_MAX / ARG_MIN --------------------------------------
@pytest.mark.parametrize("op, code", [("ReduceMax", "REDUCE_MAX"), ("ReduceMin", "REDUCE_MIN")])
@pytest.mark.parametrize("dtype, q", [(np.int8, (0.05, -7)), (np.int16, (1e-3, 0))])
def test_reduce_max_min_match_litert(op, code, dtype, q):
    rng = np.random.default_rng(11)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (2, 5, 6)).astype(dtype)
    d = np.dtype(dtype).name
    got = run(op, [In(x, qp(*q, d)), In(np.array([1, 2], np.int64), None, const=True)], [None],
              [qp(*q, d)], keepdims=0)[0]
    ax = np.array([1, 2], np.int32)
    model = lt.build(code, [T(x.shape, dtype, *q), T(ax.shape, np.int32, data=ax)],
                     [T(got.shape, dtype, *q)], options=opts("ReducerOptions", keepDims=False),
                     version=3 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])


@pytest.mark.parametrize("dtype, qi, qo", [(np.int8, (0.05, -7), (0.5, 3)), (np.int16, (1e-3, 0), (0.02, 0))])
def test_reduce_sum_matches_litert_default_kernel(dtype, qi, qo):
    # LiteRT 2.3's BUILTIN_REF SUM returns values inconsistent with its own optimized
    # kernel and with QuantizedMeanOrSum (e.g. all inputs at the zero point do not sum to
    # the output zero point); the simulator follows the documented arithmetic, which the
    # default kernel implements. See docs/integer-kernels.md.
    rng = np.random.default_rng(12)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (3, 4, 9)).astype(dtype)
    d = np.dtype(dtype).name
    got = run("ReduceSum", [In(x, qp(*qi, d)), In(np.array([2], np.int64), None, const=True)], [None],
              [qp(*qo, d)], keepdims=1)[0]
    ax = np.array([2], np.int32)
    model = lt.build("SUM", [T(x.shape, dtype, *qi), T(ax.shape, np.int32, data=ax)],
                     [T(got.shape, dtype, *qo)], options=opts("ReducerOptions", keepDims=True),
                     version=2)
    np.testing.assert_array_equal(got, lt.run(model, [x], reference=False)[0])
    zp_in = np.full_like(x, qi[1])
    assert np.all(run("ReduceSum", [In(zp_in, qp(*qi, d)), In(np.array([2], np.int64), None, const=True)],
                      [None], [qp(*qo, d)])[0] == qo[1])


@pytest.mark.parametrize("op, code", [("ArgMax", "ARG_MAX"), ("ArgMin", "ARG_MIN")])
def test_arg_max_min_match_litert(op, code):
    rng = np.random.default_rng(13)
    x = rng.integers(-4, 4, (3, 7)).astype(np.int8)  # many ties: the first index wins
    got = run(op, [In(x, qp(0.1, 0))], [None], [None], out_dtypes=[np.int64], axis=1, keepdims=0)[0]
    ax = np.array([1], np.int32)
    model = lt.build(code, [T(x.shape, np.int8, 0.1, 0), T(ax.shape, np.int32, data=ax)],
                     [T(got.shape, np.int64)], options=opts(code.title().replace("_", "") + "Options",
                                                            outputType=4), version=2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])
    last = run(op, [In(x, qp(0.1, 0))], [None], [None], out_dtypes=[np.int64], axis=1,
               select_last_index=1)[0]
    fn = np.argmax if op == "ArgMax" else np.argmin
    np.testing.assert_array_equal(last[:, 0], 6 - fn(x[:, ::-1], axis=1))
