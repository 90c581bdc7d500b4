"""Batched calibration paths against their one-sample references: row-batched
histograms, patch moments of stacked samples, output binding, and the collected
statistics themselves (batched vs. one sample at a time)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.calibrate import collect as collect_mod
from edgeq.calibrate import streaming
from edgeq.calibrate.stats import TensorStats, update_rows
from edgeq.quantize.algorithms import gptq


def _same(a: TensorStats, b: TensorStats) -> None:
    assert np.array_equal(a.counts, b.counts)
    assert (a.k0, a.log2w, a._occ) == (b.k0, b.log2w, b._occ)
    assert (a.min, a.max, a.count, a.zeros, a.nonfinite) == (b.min, b.max, b.count, b.zeros, b.nonfinite)


def _bins(s: TensorStats, log2w: int) -> dict[int, float]:
    """Absolute bin index -> count at bin width 2**log2w (merging bins is exact)."""
    s = s.copy()
    while s.log2w < log2w:
        s._double()
    return {s.k0 + int(i): float(s.counts[i]) for i in np.flatnonzero(s.counts)}


def _same_stream(a: TensorStats, b: TensorStats) -> None:
    """The same data streamed in other batches: equal at the coarser of the two widths."""
    assert (a.min, a.max, a.count, a.zeros, a.nonfinite) == (b.min, b.max, b.count, b.zeros, b.nonfinite)
    width = max(a.log2w, b.log2w)
    assert _bins(a, width) == _bins(b, width)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_update_rows_equals_update_per_row(dtype):
    rng = np.random.default_rng(0)
    one = [TensorStats(256) for _ in range(40)]
    rows = [TensorStats(256) for _ in range(40)]
    for step in range(6):
        x = rng.standard_normal((40, 300)) * np.exp(rng.standard_normal((40, 1)) * 3) * (step + 1)
        x = x.astype(dtype)
        x[3, 5] = np.nan  # non-finite values go through the one-row path
        x[7] = 0.0
        x[9, :3] = [1e30, -1e-30, 5.0]  # bin indices past float32's exact range
        for s, r in zip(one, x):
            s.update(r)
        update_rows(rows, x)
    for a, b in zip(one, rows):
        _same(a, b)


def test_update_rows_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="rows"):
        update_rows([TensorStats()], np.zeros((2, 4), np.float32))


GEOMETRIES = [
    ((1, 3, 48, 64), {"op": "conv", "k": [3, 3], "group": 1, "pads": [1, 1, 1, 1], "strides": [2, 2],
                      "dilations": [1, 1]}),
    ((1, 16, 64, 64), {"op": "conv", "k": [1, 1], "group": 1, "pads": [0, 0, 0, 0], "strides": [1, 1],
                       "dilations": [1, 1]}),
    ((2, 8, 50, 50), {"op": "conv", "k": [3, 3], "group": 8, "pads": [1, 1, 1, 1], "strides": [1, 1],
                      "dilations": [1, 1]}),
    ((1, 128, 48), {"op": "fc"}),
]


@pytest.mark.parametrize("shape,geo", GEOMETRIES)
def test_stacked_samples_give_the_per_sample_patch_moments(shape, geo):
    """Subsampled rows move their phase from sample to sample also when samples are stacked."""
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(5)]
    ref = None
    for i, x in enumerate(xs):
        ref = gptq.accumulate(ref, x, geo, phase=3 + i)
    got = gptq.accumulate(None, np.concatenate(xs), geo, phase=3, samples=5)
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-4)


def test_output_binding_matches_plain_runs():
    from edgeq.interp.ort_backend import OrtRunner
    from edgeq.ir.graph import Graph, Node, Tensor

    f32 = np.dtype(np.float32)
    g = Graph("g", {"x": Tensor("x", f32, (2, 3)), "a": Tensor("a", f32, (2, 3)),
                    "b": Tensor("b", f32, (2, 3)), "c": Tensor("c", f32, (2, 3))},
              [Node("r", "Relu", ["x"], ["a"]), Node("n", "Neg", ["a"], ["b"]), Node("t", "Tanh", ["b"], ["c"])],
              ["x"], ["c"], 17)
    runner = OrtRunner(g, outputs=["x", "a", "b", "c"])
    staged = {"a": np.empty((2, 3), np.float32), "b": np.empty((2, 3), np.float32)}
    run = runner.bind(staged).run
    rng = np.random.default_rng(2)
    first = None
    for _ in range(3):
        x = rng.standard_normal((2, 3)).astype(np.float32)
        got, ref = run({"x": x}), runner.run({"x": x})
        assert got["a"] is staged["a"] and got["b"] is staged["b"]
        for n in ref:
            np.testing.assert_array_equal(got[n], ref[n])
        if first is None:
            first = (got["c"], got["c"].copy())
    # outputs onnxruntime allocates are the caller's to keep, not overwritten by later runs
    np.testing.assert_array_equal(first[0], first[1])


def test_output_binding_checks_shapes():
    from edgeq.errors import ShapeError
    from edgeq.interp.ort_backend import OrtRunner
    from edgeq.ir.graph import Graph, Node, Tensor

    f32 = np.dtype(np.float32)
    g = Graph("g", {"x": Tensor("x", f32, (4,)), "a": Tensor("a", f32, (4,))},
              [Node("r", "Relu", ["x"], ["a"])], ["x"], ["a"], 17)
    with pytest.raises(ShapeError, match="'a'"):
        OrtRunner(g).bind({"a": np.empty(3, np.float32)})


def test_batched_collection_equals_one_sample_at_a_time(monkeypatch):
    """Buffers of 1 sample (capacity 2 disabled) against the default buffering: the
    same histograms, channel statistics and patch moments."""
    from edgeq.data import from_iterable
    from edgeq.ir.graph import Graph, Node, Tensor

    f32 = np.dtype(np.float32)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    fc = rng.standard_normal((5, 8)).astype(np.float32)
    g = Graph("g", {"x": Tensor("x", f32, (1, 4, 6, 6)), "w": Tensor("w", f32, w.shape, w),
                    "y": Tensor("y", f32, (1, 8, 6, 6)), "r": Tensor("r", f32, (1, 8, 6, 6)),
                    "p": Tensor("p", f32, (1, 8, 1, 1)), "s": Tensor("s", np.dtype(np.int64), (2,),
                                                                    np.array([1, 8], np.int64)),
                    "f": Tensor("f", f32, (1, 8)), "fw": Tensor("fw", f32, fc.shape, fc),
                    "o": Tensor("o", f32, (1, 5))},
              [Node("c", "Conv", ["x", "w"], ["y"], {"pads": [1, 1, 1, 1]}), Node("relu", "Relu", ["y"], ["r"]),
               Node("gap", "GlobalAveragePool", ["r"], ["p"]), Node("flat", "Reshape", ["p", "s"], ["f"]),
               Node("fcn", "FullyConnected", ["f", "fw"], ["o"])],
              ["x"], ["o"], 17)
    feeds = [{"x": rng.standard_normal((1, 4, 6, 6)).astype(np.float32)} for _ in range(23)]
    batched = collect_mod.collect(g, from_iterable(feeds), model_hash="t", use_cache=False, progress=False)
    # the numpy interpreter (no output binding) buffers the same way
    interp = collect_mod.collect(g, from_iterable(feeds), model_hash="t", use_cache=False, progress=False,
                                 backend="interp")
    for n in batched.stats:
        assert (interp.stats[n].count, interp.stats[n].zeros) == (batched.stats[n].count, batched.stats[n].zeros)
        np.testing.assert_allclose([interp.stats[n].min, interp.stats[n].max],
                                   [batched.stats[n].min, batched.stats[n].max], rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(streaming, "MAX_BATCH", 1)  # every tensor unbuffered
    single = collect_mod.collect(g, from_iterable(feeds), model_hash="t", use_cache=False, progress=False)
    assert sorted(batched.stats) == sorted(single.stats)
    for n in batched.stats:
        _same_stream(batched.stats[n], single.stats[n])
    assert sorted(batched.hessians) == sorted(single.hessians) and batched.hessians
    for k in batched.hessians:
        np.testing.assert_allclose(batched.hessians[k], single.hessians[k], rtol=1e-5, atol=1e-5)
    for field in ("channel_means", "channel_min", "channel_max"):
        a, b = getattr(batched, field), getattr(single, field)
        assert sorted(a) == sorted(b)
        for n in a:
            np.testing.assert_allclose(a[n], b[n], rtol=1e-6, atol=1e-7)
