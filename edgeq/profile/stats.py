"""Latency statistics beyond :class:`edgeq.target.LatencyStats`.

``benchmark_model`` prints only count, mean, std, min and max of its regular runs (a
``tsl::Stat``), no percentiles. Device runners therefore combine two measurements:
the bulk run (many invocations in one process, after warm-up) for mean/std/min/max/
init, and a few separate single-inference invocations (each after its own warm-up)
whose times are real per-run samples for p50/p90. :func:`latency_from_benchmark`
records which figure came from where in ``LatencyStats`` and the report.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any, Mapping, Sequence

import numpy as np

from edgeq.profile.benchmark_model import BenchmarkOutput
from edgeq.target import LatencyStats


def percentile(samples_ms: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default), in ms."""
    if not len(samples_ms):
        raise ValueError("no latency samples")
    return float(np.percentile(np.asarray(samples_ms, np.float64), q))


def latency_from_benchmark(bulk: BenchmarkOutput, samples_ms: Sequence[float]) -> LatencyStats:
    """LatencyStats for a ``benchmark_model`` measurement.

    ``bulk`` supplies runs, mean, std, min, max and the init time ("load_ms");
    ``samples_ms`` (single-run invocations) supply p50 and p90 and are kept as samples.
    """
    inf = bulk.inference
    if inf is None or not inf.count:
        raise ValueError("benchmark_model output has no regular runs")
    if not samples_ms:
        raise ValueError("p50/p90 need at least one single-run sample")
    return LatencyStats(
        runs=inf.count, p50_ms=percentile(samples_ms, 50), p90_ms=percentile(samples_ms, 90),
        mean_ms=bulk.inference_avg_ms if bulk.inference_avg_ms is not None else inf.avg_us / 1e3,
        min_ms=inf.min_us / 1e3, max_ms=inf.max_us / 1e3, std_ms=inf.std_us / 1e3,
        load_ms=bulk.init_ms, samples_ms=[float(s) for s in samples_ms])


def latency_to_dict(stats: LatencyStats | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON form of a LatencyStats (dicts pass through, copied)."""
    if stats is None:
        return None
    d = dict(stats) if isinstance(stats, Mapping) else asdict(stats)
    d["samples_ms"] = [float(s) for s in d.get("samples_ms") or []]
    return d


def latency_from_dict(d: Mapping[str, Any]) -> LatencyStats:
    keys = ("runs", "p50_ms", "p90_ms", "mean_ms", "min_ms", "max_ms", "std_ms", "load_ms", "samples_ms")
    return LatencyStats(**{k: d[k] for k in keys if k in d})


def speedup(baseline_ms: float | None, candidate_ms: float | None) -> float | None:
    """How many times faster the candidate is (baseline / candidate); None if unknown."""
    if not baseline_ms or not candidate_ms or not math.isfinite(baseline_ms / candidate_ms):
        return None
    return float(baseline_ms / candidate_ms)
