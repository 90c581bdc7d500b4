"""Interleaved A/B latency: the candidate and its baseline timed in alternating blocks,
so that a speed-up holds on a host that other work is loading.

Timing the candidate's runs and then the baseline's compares two different moments of
the machine: a compile job that starts between them makes the slower model look faster.
:func:`interleave` instead alternates short blocks (candidate, baseline, candidate, …,
the order swapped every round so neither side always runs first), and computes the
speed-up per round, from the medians of the two blocks measured next to each other. The
reported speed-up is the median over rounds, with the interquartile range of the
per-round ratios as its spread; a load that comes and goes moves both blocks of a round
together and cancels out of the ratio (the paired design of A/B benchmarking, e.g.
Kalibera & Jones 2013, "Rigorous benchmarking in reasonable time").

The report also says how noisy the host was: the coefficient of variation of each side's
runs (std / median) and the 1-minute load average before and after.

Where a runner reports the CPU time of each run (``extra["cpu_samples_ms"]``: the host
TFLite runner with one thread, whose interpreter computes in the calling thread), the
per-round ratios are taken from it (``clock: "thread CPU time"``): a host whose cores are
all busy makes a run wait for a core, and the waits fall unevenly on a long and a short
model (two CPU-bound jobs on two cores measured MobileNetV2's wall-clock speed-up at 2.75
to 2.95 with an IQR of 1.9 to 4.5, against 2.11 on a quiet host). The latency figures
stay wall-clock: they are what an application waits.

Every runner takes part through its ordinary ``Runner.profile(artifact, feeds, runs,
warmup)``: a block is one call with one feed. Loading the model is not timed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from edgeq.contracts import Artifact, LatencyStats, Runner

log = logging.getLogger(__name__)

#: runs per block: short enough that the load rarely changes within a block
BLOCK_RUNS = 5
#: at least this many rounds, whatever ``runs`` is
MIN_ROUNDS = 3


@dataclass
class PairedTiming:
    """The result of :func:`interleave` (times in ms)."""

    rounds: int
    runs_per_block: int
    candidate: LatencyStats
    baseline: LatencyStats
    #: per round: median of the baseline block / median of the candidate block
    ratios: list[float] = field(default_factory=list)
    candidate_peak_memory_mb: float | None = None
    baseline_peak_memory_mb: float | None = None
    load_average: tuple[float | None, float | None] = (None, None)
    #: what the ratios compare: "thread CPU time" or "wall clock"
    clock: str = "wall clock"

    @property
    def speedup(self) -> float:
        """Median over rounds of the paired ratio (> 1: the candidate is faster)."""
        return float(np.median(self.ratios))

    @property
    def speedup_iqr(self) -> tuple[float, float]:
        q1, q3 = np.percentile(self.ratios, [25, 75])
        return float(q1), float(q3)

    def to_dict(self) -> dict[str, Any]:
        def cv(stats: LatencyStats) -> float | None:
            return float(stats.std_ms / stats.p50_ms) if stats.p50_ms else None

        return {"method": "interleaved", "rounds": self.rounds, "runs_per_block": self.runs_per_block,
                "speedup": self.speedup, "speedup_iqr": list(self.speedup_iqr), "clock": self.clock,
                "candidate_cv": cv(self.candidate), "baseline_cv": cv(self.baseline),
                "load_average_before": self.load_average[0], "load_average_after": self.load_average[1]}


def _load_average() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # not on every platform
        return None


def interleave(runner: Runner, candidate: Artifact, baseline: Artifact, feed: Mapping[str, np.ndarray],
               *, runs: int = 50, warmup: int = 5, block: int = BLOCK_RUNS) -> PairedTiming:
    """Time ``candidate`` and ``baseline`` with ``runner`` in alternating blocks of
    ``block`` runs, about ``runs`` runs per side in all (at least MIN_ROUNDS rounds).

    The first block of each side warms up ``warmup`` times, later ones once (the model is
    loaded again for every block, so its caches need one run).
    """
    if runs < 1 or block < 1:
        raise ValueError("runs and block must be >= 1")
    block = min(block, runs)
    rounds = max(MIN_ROUNDS, -(-runs // block))
    before = _load_average()
    samples: dict[str, list[float]] = {"candidate": [], "baseline": []}
    peaks: dict[str, list[float]] = {"candidate": [], "baseline": []}
    ratios: list[float] = []
    cpu_clock = True
    feeds: Sequence[Mapping[str, np.ndarray]] = [feed]
    per_round: list[dict[str, list[float]]] = []
    for r in range(rounds):
        order = ("candidate", "baseline") if r % 2 == 0 else ("baseline", "candidate")
        medians = {}
        for side in order:
            art = candidate if side == "candidate" else baseline
            rep = runner.profile(art, feeds, runs=block, warmup=warmup if r == 0 else 1)
            if rep.latency is None or not rep.latency.samples_ms:
                raise ValueError(f"runner {runner.name!r} returned no latency samples")
            samples[side] += rep.latency.samples_ms
            cpu = (rep.extra or {}).get("cpu_samples_ms")
            cpu_clock = cpu_clock and bool(cpu)
            medians[side] = (float(np.median(rep.latency.samples_ms)),
                             float(np.median(cpu)) if cpu else None)
            if rep.peak_memory_mb is not None:
                peaks[side].append(float(rep.peak_memory_mb))
        per_round.append(medians)
    after = _load_average()
    k = 1 if cpu_clock else 0  # CPU time only where every block has it
    for medians in per_round:
        if medians["candidate"][k] > 0:
            ratios.append(medians["baseline"][k] / medians["candidate"][k])
    timing = PairedTiming(
        rounds=rounds, runs_per_block=block,
        candidate=LatencyStats.from_samples(samples["candidate"]),
        baseline=LatencyStats.from_samples(samples["baseline"]), ratios=ratios,
        candidate_peak_memory_mb=max(peaks["candidate"]) if peaks["candidate"] else None,
        baseline_peak_memory_mb=max(peaks["baseline"]) if peaks["baseline"] else None,
        load_average=(before, after), clock="thread CPU time" if cpu_clock else "wall clock")
    log.info("interleaved timing: %d rounds of %d runs, speed-up %.3f (IQR %.3f-%.3f)", rounds, block,
             timing.speedup, *timing.speedup_iqr)
    return timing
