"""Same-scale data movement kernels: semantics, same-scale enforcement, LiteRT where the
op carries arithmetic choices (pad value, gather, concat)."""

import numpy as np
import pytest

import _litert_single_op as lt
from _litert_single_op import T, opts
from _qgraph import In, qp, run
from edgeq.errors import UnsupportedOpError

Q = qp(0.05, -3)


def c(v, dtype=np.int64):
    return In(np.asarray(v, dtype), None, const=True)


def test_reshape_flatten_squeeze_unsqueeze_transpose():
    x = np.arange(24, dtype=np.int8).reshape(2, 3, 4)
    assert run("Reshape", [In(x, Q), c([0, -1])], [None], [Q])[0].shape == (2, 12)
    assert run("Flatten", [In(x, Q)], [None], [Q], axis=2)[0].shape == (6, 4)
    assert run("Flatten", [In(x, Q)], [None], [Q], axis=-1)[0].shape == (6, 4)
    y = run("Unsqueeze", [In(x, Q), c([0, 4])], [None], [Q])[0]
    assert y.shape == (1, 2, 3, 4, 1)
    assert run("Squeeze", [In(y, Q), c([0, -1])], [None], [Q])[0].shape == (2, 3, 4)
    t = run("Transpose", [In(x, Q)], [None], [Q], perm=[2, 0, 1])[0]
    np.testing.assert_array_equal(t, x.transpose(2, 0, 1))
    assert t.dtype == np.int8


def test_slice_split_gather():
    x = np.arange(40, dtype=np.int8).reshape(4, 10)
    y = run("Slice", [In(x, Q), c([1, -1]), c([100, 2]), c([0, 1]), c([2, -3])], [None], [Q])[0]
    np.testing.assert_array_equal(y, x[1::2, -1:2:-3])
    parts = run("Split", [In(x, Q), c([3, 7])], [None, None], [Q, Q], axis=1)
    assert [p.shape for p in parts] == [(4, 3), (4, 7)]
    parts = run("Split", [In(x, Q)], [None] * 3, [Q] * 3, axis=1, num_outputs=3)
    assert [p.shape[1] for p in parts] == [4, 4, 2]
    g = run("Gather", [In(x, Q), In(np.array([[3, -1]], np.int64))], [None], [Q], axis=0)[0]
    np.testing.assert_array_equal(g, x[[[3, 3]]])


def test_pad_fills_with_zero_point_or_given_value():
    x = np.ones((1, 2), np.int8)
    y = run("Pad", [In(x, Q), c([0, 1, 0, 2])], [None], [Q])[0]
    assert y.tolist() == [[-3, 1, 1, -3, -3]]
    y = run("Pad", [In(x, Q), c([0, 1, 0, 0]), In(np.array(9, np.int8), None, const=True)],
            [None], [Q])[0]
    assert y.tolist() == [[9, 1, 1]]
    y = run("Pad", [In(np.array([[1, 2, 3]], np.int8), Q), c([0, 2, 0, 1])], [None], [Q],
            mode="reflect")[0]
    assert y.tolist() == [[3, 2, 1, 2, 3, 2]]


@pytest.mark.parametrize("op, extra", [("Transpose", []), ("Concat", [])])
def test_same_scale_is_enforced(op, extra):
    x = np.zeros((2, 2), np.int8)
    ins = [In(x, Q), In(x, qp(0.1, -3))] if op == "Concat" else [In(x, Q)]
    with pytest.raises(UnsupportedOpError, match="requantize"):
        run(op, ins, [None], [qp(0.05, 0)], axis=0)


@pytest.mark.parametrize("dtype, qv", [(np.int8, (0.05, -3)), (np.int16, (1e-3, 0))])
def test_concat_matches_litert(dtype, qv):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, (2, 3, 4)).astype(dtype)
    b = rng.integers(info.min, info.max + 1, (2, 5, 4)).astype(dtype)
    q = qp(*qv, np.dtype(dtype).name)
    got = run("Concat", [In(a, q), In(b, q)], [None], [q], axis=1)[0]
    model = lt.build("CONCATENATION", [T(a.shape, dtype, *qv), T(b.shape, dtype, *qv)],
                     [T((2, 8, 4), dtype, *qv)], options=opts("ConcatenationOptions", axis=1),
                     version=3 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [a, b])[0])


@pytest.mark.parametrize("dtype, q", [(np.int8, (0.05, -3)), (np.int16, (1e-3, 0))])
def test_pad_matches_litert(dtype, q):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (1, 3, 4, 2)).astype(dtype)
    pads = np.array([[0, 0], [1, 2], [2, 0], [0, 0]], np.int32)
    got = run("Pad", [In(x, qp(*q, np.dtype(dtype).name)), c(pads.T.ravel())], [None],
              [qp(*q, np.dtype(dtype).name)])[0]
    model = lt.build("PAD", [T(x.shape, dtype, *q), T(pads.shape, np.int32, data=pads)],
                     [T(got.shape, dtype, *q)], version=4 if dtype == np.int16 else 2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])


def test_gather_matches_litert():
    rng = np.random.default_rng(2)
    table = rng.integers(-128, 128, (50, 8)).astype(np.int8)
    idx = np.array([[3, 49, 0], [7, 7, 1]], np.int32)
    got = run("Gather", [In(table, Q, const=True), In(idx)], [None], [Q], axis=0)[0]
    model = lt.build("GATHER", [T(table.shape, np.int8, 0.05, -3, data=table), T(idx.shape, np.int32)],
                     [T(got.shape, np.int8, 0.05, -3)], options=opts("GatherOptions", axis=0),
                     version=2)
    np.testing.assert_array_equal(got, lt.run(model, [idx])[0])


def test_slice_negative_step_to_the_beginning():
    x = np.arange(8, dtype=np.int8).reshape(1, 8)
    y = run("Slice", [In(x, Q), c([-1]), c([-100]), c([1]), c([-2])], [None], [Q])[0]
    assert y.tolist() == [[7, 5, 3, 1]]


def test_identity_expand_tile():
    x = np.array([[1, -2, 3]], np.int8)
    np.testing.assert_array_equal(run("Identity", [In(x, Q)], [None], [Q])[0], x)
    y = run("Expand", [In(x, Q), c([2, 1, 3])], [None], [Q])[0]
    np.testing.assert_array_equal(y, np.broadcast_to(x, (2, 1, 3)))
    y = run("Tile", [In(x, Q), c([2, 2])], [None], [Q])[0]
    np.testing.assert_array_equal(y, np.tile(x, (2, 2)))


def test_tile_and_broadcast_to_match_litert():
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (2, 1, 3)).astype(np.int8)
    reps = np.array([1, 4, 2], np.int32)
    got = run("Tile", [In(x, Q), c(reps)], [None], [Q])[0]
    model = lt.build("TILE", [T(x.shape, np.int8, 0.05, -3), T(reps.shape, np.int32, data=reps)],
                     [T(got.shape, np.int8, 0.05, -3)], version=1)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])
    shape = np.array([2, 5, 3], np.int32)
    got = run("Expand", [In(x, Q), c(shape)], [None], [Q])[0]
    model = lt.build("BROADCAST_TO", [T(x.shape, np.int8, 0.05, -3), T(shape.shape, np.int32, data=shape)],
                     [T(got.shape, np.int8, 0.05, -3)], version=2)
    np.testing.assert_array_equal(got, lt.run(model, [x])[0])
