"""Conformance cases of the data-movement ops (Concat, Reshape, Transpose, Pad, Slice,
Gather, Split, Tile, Expand), int8 and 16x8: same-scale ops whose output has the
input's parameters, so every target must move the integers unchanged.
:mod:`edgeq.testing.cases` adds :data:`MOVEMENT_CASES` to its ``CASES``."""

from __future__ import annotations

import numpy as np

from edgeq.testing.qgraph import QGraph, qp

I16 = "int16"
MOVEMENT_CASES: dict = {}


def _case(fn):
    MOVEMENT_CASES[fn.__name__] = fn
    return fn


def _same(op, shape, out_shape, *const_inputs, q=qp(0.04, -3), **attrs):
    b = QGraph(op)
    x = b.input(shape, q)
    extra = [b.const(np.asarray(c)) if c is not None else "" for c in const_inputs]
    b.output(b.op(op, [x, *extra], out_shape, q, **attrs))
    return b, (-4.0, 4.0)


@_case
def concat():
    b = QGraph("concat")
    q = qp(0.04, -3)
    x = b.input((1, 2, 4, 4), q, "a")
    y = b.input((1, 3, 4, 4), q, "b")
    b.output(b.op("Concat", [x, y], (1, 5, 4, 4), q, axis=1))
    return b, (-4.0, 4.0)


@_case
def reshape():
    return _same("Reshape", (2, 3, 8), (6, 8), np.array([6, 8], np.int64))


@_case
def transpose():
    return _same("Transpose", (2, 3, 4), (4, 2, 3), perm=[2, 0, 1])


@_case
def pad():
    return _same("Pad", (1, 2, 4, 4), (1, 2, 6, 7), np.array([0, 0, 1, 2, 0, 0, 1, 1], np.int64))


@_case
def slice_unit_steps():
    return _same("Slice", (2, 6, 8), (2, 3, 5), np.array([1, 2]), np.array([4, -1]), np.array([1, 2]))


@_case
def slice_strided_negative():
    return _same("Slice", (2, 6, 8), (2, 6, 4), np.array([-1]), np.array([-100]), np.array([2]),
                 np.array([-2]))


@_case
def gather():
    return _same("Gather", (10, 6), (2, 3, 6), np.array([[1, 0, 9], [4, 4, -1]], np.int64), axis=0)


@_case
def split():
    b = QGraph("split")
    q = qp(0.04, -3)
    x = b.input((2, 10), q)
    sizes = b.const(np.array([3, 7], np.int64))
    y1, y2 = b.act((2, 3), q), b.act((2, 7), q)
    b.node("Split", [x, sizes], [y1, y2], axis=1)
    b.output(y1, "y1")
    b.output(y2, "y2")
    return b, (-4.0, 4.0)


@_case
def concat_16x8():
    b = QGraph("concat")
    q = qp(0.0002, 0, I16)
    x = b.input((1, 2, 3, 4), q, "a")
    y = b.input((1, 1, 3, 4), q, "b")
    b.output(b.op("Concat", [x, y], (1, 3, 3, 4), q, axis=1))
    return b, (-4.0, 4.0)


@_case
def reshape_16x8():
    return _same("Reshape", (2, 3, 8), (6, 8), np.array([6, 8], np.int64), q=qp(0.0002, 0, I16))


@_case
def transpose_16x8():
    return _same("Transpose", (2, 3, 4), (3, 4, 2), perm=[1, 2, 0], q=qp(0.0002, 0, I16))


@_case
def pad_16x8():
    return _same("Pad", (1, 3, 5), (1, 4, 8), np.array([0, 1, 2, 0, 0, 1], np.int64), q=qp(0.0002, 0, I16))


@_case
def slice_16x8():
    return _same("Slice", (2, 6, 8), (2, 3, 5), np.array([1, 2]), np.array([4, -1]), np.array([1, 2]),
                 q=qp(0.0002, 0, I16))


@_case
def gather_16x8():
    return _same("Gather", (3, 10), (3, 4), np.array([9, 0, 2, 2], np.int64), axis=1, q=qp(0.0002, 0, I16))


@_case
def split_16x8():
    b = QGraph("split")
    q = qp(0.0002, 0, I16)
    x = b.input((4, 6), q)
    y1, y2 = b.act((2, 6), q), b.act((2, 6), q)
    b.node("Split", [x, b.const(np.array([2, 2], np.int64))], [y1, y2], axis=0)
    b.output(y1, "y1")
    b.output(y2, "y2")
    return b, (-4.0, 4.0)


@_case
def tile_16x8():
    return _same("Tile", (2, 3), (2, 6), np.array([1, 2], np.int64), q=qp(0.0002, 0, I16))


@_case
def expand():
    return _same("Expand", (1, 3, 1), (2, 3, 4), np.array([2, 3, 4], np.int64))
