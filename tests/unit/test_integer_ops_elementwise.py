"""Relu/Clip, Max/Min, SquaredDifference, Rsqrt and MatMul kernels: goldens and LiteRT."""

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, opts
from _qgraph import In, qp, run
from edgeq.errors import UnsupportedOpError


def all_int8():
    return np.arange(-128, 128).astype(np.int8)


def unary_litert(code, x, qi, qo, version=1):
    model = lt.build(code, [T(x.shape, x.dtype, *qi)], [T(x.shape, x.dtype, *qo)], version=version)
    return lt.run(model, [x])[0]


# -- Relu / Clip -------------------------------------------------------------------------
def test_clip_golden_same_scale_is_a_clamp():
    x = np.array([-128, -10, 0, 50, 127], np.int8)
    lo, hi = In(np.float32(0.0), None, const=True), In(np.float32(6.0), None, const=True)
    y = run("Clip", [In(x, qp(0.1, -10)), lo, hi], [None], [qp(0.1, -10)])[0]
    assert y.tolist() == [-10, -10, 0, 50, 50]  # 6 / 0.1 = 60 -> -10 + 60


@pytest.mark.parametrize("code, lo, hi", [("RELU", 0.0, None), ("RELU6", 0.0, 6.0),
                                          ("RELU_N1_TO_1", -1.0, 1.0)])
@pytest.mark.parametrize("qi, qo", [((0.05, -10), (0.05, -10)), ((0.05, -10), (0.03, -128)),
                                    ((0.11, 20), (0.02, -100))])
def test_relu_family_matches_litert(code, lo, hi, qi, qo):
    x = all_int8()
    ins = [In(x, qp(*qi)), In(np.float32(lo), None, const=True)]
    ins.append(In(np.float32(hi), None, const=True) if hi is not None else None)
    got = run("Clip", ins, [None], [qp(*qo)])[0]
    version = 1 if code == "RELU_N1_TO_1" else 2  # the only registered version
    np.testing.assert_array_equal(got, unary_litert(code, x, qi, qo, version=version))
    if code == "RELU":
        np.testing.assert_array_equal(run("Relu", [In(x, qp(*qi))], [None], [qp(*qo)])[0], got)


def test_relu_int16_matches_litert():
    x = np.arange(-32768, 32768, 7).astype(np.int16)
    qi, qo = (1e-3, 0), (7e-4, 0)
    got = run("Relu", [In(x, qp(*qi, "int16"))], [None], [qp(*qo, "int16")])[0]
    np.testing.assert_array_equal(got, unary_litert("RELU", x, qi, qo, version=3))


# -- Max / Min ---------------------------------------------------------------------------
@pytest.mark.parametrize("op, code", [("Max", "MAXIMUM"), ("Min", "MINIMUM")])
@pytest.mark.parametrize("dtype, qv", [(np.int8, (0.02, 7)), (np.int16, (1e-3, 0))])
def test_max_min_match_litert(op, code, dtype, qv):
    rng = np.random.default_rng(4)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, (3, 1, 5)).astype(dtype)
    b = rng.integers(info.min, info.max + 1, (4, 5)).astype(dtype)
    q = qp(*qv, np.dtype(dtype).name)
    got = run(op, [In(a, q), In(b, q)], [None], [q])[0]
    model = lt.build(code, [T(a.shape, dtype, *qv), T(b.shape, dtype, *qv)],
                     [T(got.shape, dtype, *qv)], version=4 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [a, b])[0])


# -- SquaredDifference -------------------------------------------------------------------
def test_squared_difference_golden():
    # s = 1: (5 - 2)^2 = 9 with output scale 1
    y = run("SquaredDifference", [In(np.array([5], np.int8), qp(1.0)), In(np.array([2], np.int8), qp(1.0))],
            [None], [qp(1.0)])[0]
    assert y.tolist() == [9]


@pytest.mark.parametrize("q1, q2, qo", [((0.05, 3), (0.05, 3), (0.02, -128)),
                                        ((0.1, -20), (0.03, 5), (0.3, -128)),
                                        ((0.01, 0), (0.02, 127), (0.002, -100))])
def test_squared_difference_matches_litert(q1, q2, qo):
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (6, 40)).astype(np.int8)
    b = rng.integers(-128, 128, (1, 40)).astype(np.int8)
    got = run("SquaredDifference", [In(a, qp(*q1)), In(b, qp(*q2))], [None], [qp(*qo)])[0]
    model = lt.build("SQUARED_DIFFERENCE", [T(a.shape, np.int8, *q1), T(b.shape, np.int8, *q2)],
                     [T(got.shape, np.int8, *qo)], version=2)
    np.testing.assert_array_equal(got, lt.run(model, [a, b])[0])


# -- Rsqrt --------------------------------------------------------------------------------
@pytest.mark.parametrize("qi, qo", [((0.01, -128), (0.05, -128)), ((0.2, -100), (0.01, -128)),
                                    ((1e-3, -128), (0.5, -128)), ((0.05, 0), (0.02, -20))])
def test_rsqrt_matches_litert(qi, qo):
    x = np.arange(qi[1], 128).astype(np.int8)  # inputs at or above the zero point
    got = run("Rsqrt", [In(x, qp(*qi))], [None], [qp(*qo)])[0]
    np.testing.assert_array_equal(got, unary_litert("RSQRT", x, qi, qo, version=2))


def test_rsqrt_rejects_negative_values():
    with pytest.raises(UnsupportedOpError, match="negative"):
        run("Rsqrt", [In(np.array([-5], np.int8), qp(0.1, 0))], [None], [qp(0.1, 0)])


# -- MatMul (BATCH_MATMUL) -----------------------------------------------------------------
@pytest.mark.parametrize("dtype, qa, qb, qo", [
    (np.int8, (0.02, -5), (0.03, 9), (0.4, 3)),
    (np.int8, (0.1, 127), (0.1, -128), (5.0, 0)),
    (np.int16, (1e-3, 0), (2e-3, 0), (0.05, 0)),
])
@pytest.mark.parametrize("sa, sb", [((2, 4, 6, 16), (2, 4, 16, 5)), ((3, 7, 8), (8, 9)),
                                    ((1, 4, 6, 16), (3, 1, 16, 5))])
def test_matmul_matches_litert(dtype, qa, qb, qo, sa, sb):
    rng = np.random.default_rng(len(sa) + sb[-1])
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, sa).astype(dtype)
    b = rng.integers(info.min, info.max + 1, sb).astype(dtype)
    d = np.dtype(dtype).name
    got = run("MatMul", [In(a, qp(*qa, d)), In(b, qp(*qb, d))], [None], [qp(*qo, d)])[0]
    assert got.shape == np.matmul(a.astype(float), b.astype(float)).shape
    model = lt.build("BATCH_MATMUL", [T(a.shape, dtype, *qa), T(b.shape, dtype, *qb)],
                     [T(got.shape, dtype, *qo)], options=opts("BatchMatMulOptions"),
                     version=3 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [a, b])[0])


# -- LeakyRelu, int16 Rsqrt ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype, qi, qo, alpha", [
    (np.int8, (0.05, 3), (0.04, -20), 0.1), (np.int8, (0.02, -128), (0.02, -128), 0.3),
    (np.int8, (0.1, 0), (0.05, 0), -0.5), (np.int16, (1e-3, 0), (8e-4, 0), 0.2)])
def test_leaky_relu_matches_litert(dtype, qi, qo, alpha):
    info = np.iinfo(dtype)
    x = np.arange(info.min, info.max + 1, 1 if dtype == np.int8 else 5).astype(dtype)
    d = np.dtype(dtype).name
    got = run("LeakyRelu", [In(x, qp(*qi, d))], [None], [qp(*qo, d)], alpha=alpha)[0]
    model = lt.build("LEAKY_RELU", [T(x.shape, dtype, *qi)], [T(x.shape, dtype, *qo)],
                     options=opts("LeakyReluOptions", alpha=alpha), version=2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])


@pytest.mark.parametrize("qi, qo", [((2e-4, 0), (3e-4, 0)), ((1e-3, 0), (5e-5, 0))])
def test_rsqrt_int16_matches_litert(qi, qo):
    x = np.arange(0, 32768, 3).astype(np.int16)
    got = run("Rsqrt", [In(x, qp(*qi, "int16"))], [None], [qp(*qo, "int16")])[0]
    np.testing.assert_array_equal(got, unary_litert("RSQRT", x, qi, qo, version=3))
