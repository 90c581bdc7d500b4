"""Streaming statistics and range observers on known distributions.

References are computed independently from the raw samples (numpy quantiles, a brute
force search of the quantization MSE), never from the histogram code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.calibrate.observers import OBSERVERS, Observer, get_observer
from edgeq.calibrate.stats import TensorStats
from edgeq.errors import ConfigError


def _stream(chunks, num_bins=4096):
    s = TensorStats(num_bins)
    for c in chunks:
        s.update(c)
    return s


def _quant_mse(x, lo, hi, levels=255):
    """Exact mean squared error of asymmetric quantization of ``x`` to ``[lo, hi]``."""
    s = (hi - lo) / levels
    q = np.clip(np.round((x - lo) / s), 0, levels)
    return float(np.mean((x - (lo + q * s)) ** 2))


def test_extremes_and_counts_are_exact():
    rng = np.random.default_rng(0)
    chunks = [rng.normal(size=1000) * (i + 1) for i in range(8)] + [np.zeros(100)]
    s = _stream(chunks)
    every = np.concatenate(chunks)
    assert s.min == every.min() and s.max == every.max()
    assert s.count == every.size
    assert s.zeros == 100
    assert s.histogram()[0].sum() == every.size


def test_memory_does_not_grow_with_samples():
    rng = np.random.default_rng(1)
    s = TensorStats(1024)
    sizes = []
    for i in range(200):
        s.update(rng.standard_t(3, size=5000) * (1 + i % 7))
        sizes.append(sum(a.nbytes for a in s.to_arrays().values()))
    assert len(set(sizes)) == 1
    assert sizes[0] < 10_000


def test_histogram_independent_of_batching_at_equal_width():
    rng = np.random.default_rng(2)
    data = rng.normal(size=20000) * 3 + 1
    a = _stream(np.array_split(data, 37))
    b = _stream([data])
    while a.log2w < b.log2w:
        a._double()
    while b.log2w < a.log2w:
        b._double()
    ca, ea = a.histogram()
    cb, eb = b.histogram()
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(ea, eb)


def test_quantiles_match_numpy():
    rng = np.random.default_rng(3)
    data = rng.laplace(size=50000)
    s = _stream(np.array_split(data, 10))
    width = 2.0 ** s.log2w
    for q in (0.001, 0.01, 0.5, 0.99, 0.999):
        est = s.quantile(q)
        # within a bin of numpy's quantile, and the right fraction of samples below it
        assert abs(est - np.quantile(data, q)) < 4 * width
        assert abs(np.mean(data <= est) - q) < 5e-4


def test_merge_equals_single_stream():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=3000), rng.normal(size=3000) * 10 + 5
    merged = _stream([x])
    merged.merge(_stream([y]))
    single = _stream([x, y])
    assert merged.count == single.count and merged.min == single.min and merged.max == single.max
    assert merged.histogram()[0].sum() == 6000
    for q in (0.1, 0.5, 0.9):
        assert abs(merged.quantile(q) - single.quantile(q)) < 0.2


def test_nonfinite_values_are_counted_not_binned():
    s = _stream([np.array([1.0, np.inf, -np.inf, np.nan, -2.0])])
    assert s.nonfinite == 3
    assert (s.min, s.max) == (-2.0, 1.0)
    assert s.count == 2


def test_large_tensors_keep_exact_extremes_when_subsampled():
    rng = np.random.default_rng(5)
    x = rng.normal(size=1_000_000).astype(np.float32)
    x[123457] = 50.0
    s = _stream([x])
    assert s.max == 50.0
    assert s.count < x.size  # histogrammed a subsample
    assert abs(s.quantile(0.5) - np.median(x)) < 0.05


def test_round_trip_arrays():
    rng = np.random.default_rng(6)
    s = _stream([rng.normal(size=999)])
    t = TensorStats.from_arrays(s.to_arrays())
    assert (t.min, t.max, t.count, t.zeros, t.log2w, t.k0) == (s.min, s.max, s.count, s.zeros, s.log2w, s.k0)
    np.testing.assert_array_equal(t.counts, s.counts)


def test_minmax_observer_is_exact():
    s = _stream([np.array([-3.0, 0.5, 7.25])])
    assert get_observer("minmax").choose_range(s) == (-3.0, 7.25)
    assert get_observer("minmax").choose_range(s, symmetric=True, levels=65534) == (-7.25, 7.25)


def test_ranges_always_contain_zero():
    s = _stream([np.array([2.0, 3.0, 5.0])])
    for name in OBSERVERS:
        lo, hi = get_observer(name).choose_range(s)
        assert lo == 0.0 and hi > 2.0


def test_percentile_on_uniform():
    rng = np.random.default_rng(7)
    data = rng.uniform(-1, 3, size=200000)
    lo, hi = get_observer("percentile", percentile=99.0).choose_range(_stream([data]))
    assert abs(lo - np.percentile(data, 1.0)) < 0.01
    assert abs(hi - np.percentile(data, 99.0)) < 0.01


@pytest.mark.parametrize("dist", ["normal", "laplace", "relu"])
def test_mse_observer_is_near_the_brute_force_optimum(dist):
    rng = np.random.default_rng(8)
    x = {"normal": rng.normal(size=100000), "laplace": rng.laplace(size=100000),
         "relu": np.maximum(rng.normal(size=100000), 0)}[dist][:40000]
    lo, hi = get_observer("mse").choose_range(_stream(np.array_split(x, 5)))
    # brute force over shrink factors of the extremes, on the raw samples
    best = min(_quant_mse(x, min(x.min(), 0) * a, x.max() * b)
               for a in np.linspace(0.2, 1, 33) for b in np.linspace(0.2, 1, 33))
    assert _quant_mse(x, lo, hi) <= best * 1.05
    assert _quant_mse(x, lo, hi) <= _quant_mse(x, min(x.min(), 0), x.max())  # never worse than min/max


def test_mse_symmetric_int16_keeps_nearly_full_range():
    rng = np.random.default_rng(9)
    x = rng.normal(size=50000)
    lo, hi = get_observer("mse").choose_range(_stream([x]), levels=65534, symmetric=True)
    assert lo == -hi and hi > 0.9 * np.abs(x).max()


def test_entropy_clips_heavy_tails_and_keeps_uniform():
    rng = np.random.default_rng(10)
    heavy = rng.standard_t(2, size=200000)
    lo, hi = get_observer("entropy").choose_range(_stream([heavy]))
    assert hi < 0.5 * heavy.max() and lo > 0.5 * heavy.min()
    uni = rng.uniform(-1, 1, size=200000)
    lo, hi = get_observer("entropy").choose_range(_stream([uni]))
    assert hi > 0.9 and lo < -0.9


def test_empty_stats_give_zero_range():
    assert get_observer("mse").choose_range(TensorStats()) == (0.0, 0.0)


def test_unknown_observer_and_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="unknown calibration method 'kl2'"):
        get_observer("kl2")
    with pytest.raises(ConfigError, match="percentile"):
        get_observer("percentile", percentile=20)
    with pytest.raises(ConfigError, match="takes no options"):
        get_observer("minmax", bins=3)


def test_observer_instances_pass_through():
    obs = get_observer("percentile", percentile=99.9)
    assert get_observer(obs) is obs and isinstance(obs, Observer)
