"""Softmax / Sigmoid / Tanh / Gelu / HardSwish kernels: goldens and LiteRT bit-exactness."""

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, opts
from _qgraph import In, qp, run
from edgeq.errors import UnsupportedOpError


def act(op, x, qi, qo, **attrs):
    return run(op, [In(x, qi)], [x.shape], [qo], **attrs)[0]


def all_values(dtype, step=1):
    info = np.iinfo(dtype)
    return np.arange(info.min, info.max + 1, step).astype(dtype)


def litert_unary(code, x, qi, qo, options=None, version=1):
    model = lt.build(code, [T(x.shape, x.dtype, *qi)], [T(x.shape, x.dtype, *qo)], options=options,
                     version=version)
    return lt.run(model, [x])[0]


# -- goldens ---------------------------------------------------------------------------
def test_sigmoid_int8_golden_points():
    x = np.array([0, -128, 127], np.int8)
    y = act("Sigmoid", x, qp(0.1, 0), qp(1 / 256, -128))
    # sigmoid(0) = 0.5 -> 128 - 128 = 0; sigmoid(-12.8) ~ 2.8e-6 -> -128; sigmoid(12.7) -> 1 -> 127
    assert y.tolist() == [0, -128, 127]


def test_tanh_int16_golden_points():
    x = np.array([0, 32767, -32768], np.int16)
    y = act("Tanh", x, qp(2.0 ** -12, 0, "int16"), qp(1 / 32768, 0, "int16"))
    # tanh(±8) saturates symmetrically: the negative branch ends at -32767, not -32768
    assert y.tolist() == [0, 32767, -32767]


def test_softmax_int8_golden():
    # equal logits -> 1/n each: 1/4 * 256 = 64 -> 64 - 128 = -64
    y = act("Softmax", np.full((1, 4), 5, np.int8), qp(0.1, 0), qp(1 / 256, -128))
    assert y.tolist() == [[-64] * 4]
    # one dominant logit takes everything representable
    y = act("Softmax", np.array([[127, -128]], np.int8), qp(1.0, 0), qp(1 / 256, -128))
    assert y.tolist() == [[127, -128]]


def test_softmax_rejects_wrong_output_params():
    with pytest.raises(UnsupportedOpError, match="1/256"):
        act("Softmax", np.zeros((1, 4), np.int8), qp(0.1), qp(0.1, 0))


def test_softmax_any_axis_equals_last_axis_after_transpose():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (3, 5, 7)).astype(np.int8)
    y1 = act("Softmax", x, qp(0.05, 3), qp(1 / 256, -128), axis=1)
    y2 = act("Softmax", x.transpose(0, 2, 1).copy(), qp(0.05, 3), qp(1 / 256, -128))
    np.testing.assert_array_equal(y1, y2.transpose(0, 2, 1))


def test_hard_swish_golden():
    # s_in = s_out = 6/128: q = 64 -> x = 3 -> hardswish(3) = 3 -> 64; q = -64 -> -3 -> 0
    y = act("HardSwish", np.array([64, -64, 0], np.int8), qp(6 / 128, 0), qp(6 / 128, 0))
    assert y.tolist() == [64, 0, 0]


# -- LiteRT: LUT-based int8 activations over every input value --------------------------
IN8 = [(0.1, 0), (0.0471, -17), (0.013, 127), (0.25, -128), (0.0039, 5)]


@pytest.mark.parametrize("qi", IN8)
def test_sigmoid_int8_matches_litert(qi):
    x = all_values(np.int8)
    qo = (1 / 256, -128)
    np.testing.assert_array_equal(act("Sigmoid", x, qp(*qi), qp(*qo)),
                                  litert_unary("LOGISTIC", x, qi, qo, version=2))


@pytest.mark.parametrize("qi", IN8)
@pytest.mark.parametrize("qo", [(1 / 128, 0), (0.0079, 3)])
def test_tanh_int8_matches_litert(qi, qo):
    x = all_values(np.int8)
    np.testing.assert_array_equal(act("Tanh", x, qp(*qi), qp(*qo)),
                                  litert_unary("TANH", x, qi, qo, version=2))


@pytest.mark.parametrize("qi, qo", [((0.05, -20), (0.03, -120)), ((0.1, 10), (0.07, -100)),
                                    ((0.021, -128), (0.021, -128)), ((0.3, 0), (0.2, -10))])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_int8_matches_litert(qi, qo, approximate):
    x = all_values(np.int8)
    o = opts("GeluOptions", approximate=approximate == "tanh")
    np.testing.assert_array_equal(act("Gelu", x, qp(*qi), qp(*qo), approximate=approximate),
                                  litert_unary("GELU", x, qi, qo, options=o, version=2))


@pytest.mark.parametrize("qi, qo", [((0.05, -20), (0.04, -110)), ((0.1, 10), (0.07, -100)),
                                    ((0.5, 0), (0.3, -128)), ((0.02, 0), (0.02, 0)),
                                    ((0.011, -128), (0.007, 12)), ((1.7, 3), (1.1, -50))])
def test_hard_swish_int8_matches_litert(qi, qo):
    x = all_values(np.int8)
    np.testing.assert_array_equal(act("HardSwish", x, qp(*qi), qp(*qo)),
                                  litert_unary("HARD_SWISH", x, qi, qo))


# -- LiteRT: int16 fixed-point activations ----------------------------------------------
IN16 = [2.0 ** -12, 2.0 ** -11, 1e-4, 3.05e-4, 1 / 2000, 2.0 ** -13]


@pytest.mark.parametrize("s_in", IN16)
def test_sigmoid_int16_matches_litert(s_in):
    x = all_values(np.int16, 3)
    qi, qo = (s_in, 0), (1 / 32768, 0)
    np.testing.assert_array_equal(act("Sigmoid", x, qp(*qi, "int16"), qp(*qo, "int16")),
                                  litert_unary("LOGISTIC", x, qi, qo, version=3))


@pytest.mark.parametrize("s_in", IN16)
def test_tanh_int16_matches_litert(s_in):
    x = all_values(np.int16, 3)
    qi, qo = (s_in, 0), (1 / 32768, 0)
    np.testing.assert_array_equal(act("Tanh", x, qp(*qi, "int16"), qp(*qo, "int16")),
                                  litert_unary("TANH", x, qi, qo, version=3))


# -- LiteRT: softmax -------------------------------------------------------------------------
@pytest.mark.parametrize("s_in, zp", [(0.1, 0), (0.0625, -5), (0.03, 17), (0.5, 127), (0.0077, -128),
                                      (1.3, 0)])
@pytest.mark.parametrize("shape", [(4, 10), (2, 3, 1000), (1, 1)])
def test_softmax_int8_matches_litert(s_in, zp, shape):
    rng = np.random.default_rng(len(shape) + int(s_in * 1000))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    qo = (1 / 256, -128)
    o = opts("SoftmaxOptions", beta=1.0)
    np.testing.assert_array_equal(act("Softmax", x, qp(s_in, zp), qp(*qo)),
                                  litert_unary("SOFTMAX", x, (s_in, zp), qo, options=o, version=2))


@pytest.mark.parametrize("s_in", [1e-4, 3e-4, 1 / 4096, 2e-3])
@pytest.mark.parametrize("shape", [(4, 10), (2, 3, 256)])
def test_softmax_int16_matches_litert(s_in, shape):
    rng = np.random.default_rng(len(shape) + int(s_in * 1e6))
    x = rng.integers(-32768, 32768, shape).astype(np.int16)
    qo = (1 / 32768, 0)
    o = opts("SoftmaxOptions", beta=1.0)
    np.testing.assert_array_equal(act("Softmax", x, qp(s_in, 0, "int16"), qp(*qo, "int16")),
                                  litert_unary("SOFTMAX", x, (s_in, 0), qo, options=o, version=3))


@pytest.mark.parametrize("s_in, zp", [(0.1, 0), (0.0625, -5), (0.03, 17), (0.5, 127), (1.3, -128)])
@pytest.mark.parametrize("shape", [(4, 10), (2, 3, 300)])
def test_log_softmax_int8_matches_litert(s_in, zp, shape):
    rng = np.random.default_rng(len(shape) + int(s_in * 1000))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    qo = (16 / 256, 127)
    np.testing.assert_array_equal(act("LogSoftmax", x, qp(s_in, zp), qp(*qo)),
                                  litert_unary("LOG_SOFTMAX", x, (s_in, zp), qo, version=2))
