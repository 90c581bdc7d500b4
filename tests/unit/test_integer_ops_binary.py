"""Add / Sub / Mul kernels: goldens, broadcasting, saturation and LiteRT bit-exactness."""

import zlib

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, fb, opts
from _qgraph import In, qp, run
from edgeq.errors import UnsupportedOpError

OPS = {"Add": ("ADD", "AddOptions"), "Sub": ("SUB", "SubOptions"), "Mul": ("MUL", "MulOptions")}


def binary(op, a, b, q1, q2, qo, **attrs):
    shape = np.broadcast_shapes(a.shape, b.shape)
    return run(op, [In(a, q1), In(b, q2)], [shape], [qo], **attrs)[0]


def test_add_golden_same_scale():
    # s = 1 everywhere: the left_shift 20 pipeline is exact, 3 + 4 = 7; 100 + 100 saturates
    a = np.array([3, 100, -100], np.int8)
    b = np.array([4, 100, -100], np.int8)
    assert binary("Add", a, b, qp(1.0), qp(1.0), qp(1.0)).tolist() == [7, 127, -128]


def test_sub_golden_and_zero_points():
    a = np.array([10, -5], np.int8)
    b = np.array([3, 7], np.int8)
    # real: (10-2) - (3+1) = 4 -> +zp 5 = 9; (-5-2) - (7+1) = -15 -> -10
    y = binary("Sub", a, b, qp(1.0, 2), qp(1.0, -1), qp(1.0, 5))
    assert y.tolist() == [9, -10]


def test_mul_golden():
    # (6-2)*(3-1) = 8, * 0.5*0.25/0.125 = 8 -> +zp -1 = 7
    y = binary("Mul", np.array([6], np.int8), np.array([3], np.int8), qp(0.5, 2), qp(0.25, 1),
               qp(0.125, -1))
    assert y.tolist() == [7]


def test_fused_relu_clamps_at_zero_point():
    y = binary("Add", np.array([-50, 50], np.int8), np.array([0, 0], np.int8), qp(1.0), qp(1.0),
               qp(1.0, -20), act_min=0.0)
    assert y.tolist() == [-20, 30]


def test_add_rejects_unrepresentable_output_scale():
    with pytest.raises(UnsupportedOpError, match="output scale too small"):
        binary("Add", np.zeros(2, np.int8), np.zeros(2, np.int8), qp(1.0), qp(1.0), qp(1e-7))


def test_int16_mul_requires_symmetric():
    with pytest.raises(UnsupportedOpError, match="zero point 0"):
        binary("Mul", np.zeros(2, np.int16), np.zeros(2, np.int16), qp(1.0, 3, "int16"),
               qp(1.0, 0, "int16"), qp(1.0, 0, "int16"))


def _litert(op, a, b, q1, q2, qo, dtype, act=fb.ActivationFunctionType.NONE):
    code, oname = OPS[op]
    o = opts(oname, fusedActivationFunction=act)
    if op in ("Add", "Sub"):
        o.potScaleInt16 = False  # the general int16 path
    shape = np.broadcast_shapes(a.shape, b.shape)
    model = lt.build(code, [T(a.shape, dtype, *q1), T(b.shape, dtype, *q2)], [T(shape, dtype, *qo)],
                     options=o, version=4 if dtype == np.int16 else 2)
    return lt.run(model, [a, b])[0]


SCALES8 = [((0.05, -3), (0.07, 10), (0.11, -5)),
           ((0.02, 0), (0.2, 100), (0.1, -128)),
           ((0.0123, 127), (0.0123, -128), (0.031, 4)),
           ((1.0, 0), (0.003, 5), (0.9, 0))]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul"])
@pytest.mark.parametrize("scales", SCALES8)
@pytest.mark.parametrize("shapes", [((4, 33), (4, 33)), ((2, 3, 5, 7), (1, 3, 1, 7)), ((6,), (2, 1, 6)),
                                    ((3, 1), (1,))])
def test_int8_matches_litert(op, scales, shapes):
    rng = np.random.default_rng(zlib.crc32(repr((op, scales, shapes)).encode()))
    a = rng.integers(-128, 128, shapes[0]).astype(np.int8)
    b = rng.integers(-128, 128, shapes[1]).astype(np.int8)
    q1, q2, qo = scales
    if op == "Mul":
        qo = (qo[0] * 10, qo[1])  # keep products in range
    got = binary(op, a, b, qp(*q1), qp(*q2), qp(*qo))
    np.testing.assert_array_equal(got, _litert(op, a, b, q1, q2, qo, np.int8))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul"])
def test_int8_fused_relu6_matches_litert(op):
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (50,)).astype(np.int8)
    b = rng.integers(-128, 128, (50,)).astype(np.int8)
    q1, q2, qo = (0.05, 3), (0.04, -2), (0.03, -100)
    got = binary(op, a, b, qp(*q1), qp(*q2), qp(*qo), act_min=0.0, act_max=6.0)
    want = _litert(op, a, b, q1, q2, qo, np.int8, fb.ActivationFunctionType.RELU6)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul"])
@pytest.mark.parametrize("scales", [((1e-3, 0), (2.7e-4, 0), (1.3e-3, 0)),
                                    ((3e-5, 0), (3e-5, 0), (6.1e-5, 0))])
@pytest.mark.parametrize("shapes", [((8, 40), (8, 40)), ((2, 4, 8), (1, 1, 8))])
def test_int16_matches_litert(op, scales, shapes):
    rng = np.random.default_rng(zlib.crc32(repr((op, scales, shapes)).encode()))
    a = rng.integers(-32768, 32768, shapes[0]).astype(np.int16)
    b = rng.integers(-32768, 32768, shapes[1]).astype(np.int16)
    q1, q2, qo = scales
    if op == "Mul":
        qo = (q1[0] * q2[0] * 20000, 0)
    got = binary(op, a, b, qp(*q1, "int16"), qp(*q2, "int16"), qp(*qo, "int16"))
    np.testing.assert_array_equal(got, _litert(op, a, b, q1, q2, qo, np.int16))
