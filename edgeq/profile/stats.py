"""Latency statistics beyond :class:`edgeq.contracts.LatencyStats`: percentiles, the JSON
form of a LatencyStats, and speed-ups. Tool-specific parsers (TFLite's
``benchmark_model``) live in their target plugin.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any, Mapping, Sequence

import numpy as np

from edgeq.contracts import LatencyStats


def percentile(samples_ms: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default), in ms."""
    if not len(samples_ms):
        raise ValueError("no latency samples")
    return float(np.percentile(np.asarray(samples_ms, np.float64), q))


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
