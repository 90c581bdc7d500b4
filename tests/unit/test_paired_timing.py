"""Interleaved A/B timing (edgeq/profile/paired.py): a speed-up measured in paired rounds
does not move when the host's load changes halfway, where timing one side after the
other would; and edgeq.profile --baseline fp32 reports it with its spread and the noise."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn

from edgeq.contracts import Artifact, LatencyStats, ProfileReport, Runner
from edgeq.profile.paired import MIN_ROUNDS, interleave


class LoadedHost(Runner):
    """A runner whose 'measurements' are the artifact's cost times the host's load, which
    jumps from 1 to 5 after ``switch`` calls (another job starting)."""

    name = "fake"
    targets = ("fake",)

    def __init__(self, switch: int):
        self.calls, self.switch = 0, switch

    def run(self, artifact, feeds):
        return {}

    def profile(self, artifact, feeds, *, runs=50, warmup=5, **options):
        load = 1.0 if self.calls < self.switch else 5.0
        self.calls += 1
        cost = artifact.manifest["cost_ms"] * load
        return ProfileReport(target="fake", runner="fake",
                             latency=LatencyStats.from_samples([cost] * runs), peak_memory_mb=cost)


def _art(tmp_path, name, cost):
    return Artifact(tmp_path / name, {"target": "fake", "cost_ms": cost})


def test_paired_speedup_is_immune_to_a_load_change(tmp_path):
    cand, base = _art(tmp_path, "int8", 1.0), _art(tmp_path, "fp32", 2.0)
    rounds = 10
    timing = interleave(LoadedHost(switch=rounds), cand, base, {}, runs=5 * rounds, warmup=0)
    assert timing.rounds == rounds and timing.runs_per_block == 5
    assert timing.ratios == pytest.approx([2.0] * rounds) and timing.speedup == pytest.approx(2.0)
    assert timing.speedup_iqr == pytest.approx((2.0, 2.0))
    # the same load change seen by sequential timing: all candidate runs, then all baseline runs
    host = LoadedHost(switch=1)
    c = host.profile(cand, [{}], runs=50).latency.p50_ms
    b = host.profile(base, [{}], runs=50).latency.p50_ms
    assert b / c == pytest.approx(10.0)  # what the old one-after-the-other timing reported


def test_rounds_and_side_order(tmp_path):
    order = []

    class Recording(LoadedHost):
        def profile(self, artifact, feeds, *, runs=50, warmup=5, **options):
            order.append((artifact.path.name, runs, warmup))
            return super().profile(artifact, feeds, runs=runs, warmup=warmup)

    timing = interleave(Recording(switch=10**6), _art(tmp_path, "c", 1.0), _art(tmp_path, "b", 1.5), {},
                        runs=4, warmup=7)
    assert timing.rounds == MIN_ROUNDS and timing.runs_per_block == 4
    assert [o[0] for o in order] == ["c", "b", "b", "c", "c", "b"]  # swapped every round
    assert order[0][2] == 7 and order[1][2] == 7 and all(w == 1 for _, _, w in order[2:])
    assert timing.to_dict()["candidate_cv"] == 0.0 and timing.baseline_peak_memory_mb == 1.5


def test_profile_with_fp32_baseline_reports_the_paired_speedup(tmp_path):
    pytest.importorskip("ai_edge_litert.interpreter")
    import edgeq

    onnx = save(small_cnn(), tmp_path / "cnn.onnx")
    arts = edgeq.build(str(onnx), targets=["tflite"], calibration=cnn_feeds(8), output_dir=tmp_path / "b",
                       progress=False, cache_dir=str(tmp_path / "c"), layer_sqnr_samples=0)
    rep = edgeq.profile(arts["tflite"].path, data=cnn_feeds(2), runs=10, warmup=1, baseline="fp32",
                        report_formats=("json", "md"), progress=False)
    comp = rep.to_dict()["comparison"]
    paired = comp["paired"]
    assert paired["method"] == "interleaved" and paired["rounds"] >= MIN_ROUNDS
    assert comp["speedup"] == paired["speedup"] > 0
    q1, q3 = paired["speedup_iqr"]
    assert q1 <= paired["speedup"] <= q3
    assert comp["baseline"]["peak_memory_mb"] is not None and comp["candidate"]["peak_memory_mb"] is not None
    assert "interleaved rounds" in rep.to_markdown()
    assert np.isfinite(comp["baseline"]["latency_p50_ms"])
    # the host runner with one thread reports CPU time, and the ratios use it
    assert paired["clock"] == "thread CPU time" and "ratios of thread CPU time" in rep.to_markdown()


class BusyCores(LoadedHost):
    """Wall-clock samples inflated by waits for a core that hit the longer model more (as
    on a host whose cores are all busy); the CPU time of the runs is the artifact's cost."""

    def __init__(self, cpu: bool = True):
        super().__init__(switch=10**6)
        self.cpu = cpu

    def profile(self, artifact, feeds, *, runs=50, warmup=5, **options):
        self.calls += 1
        cost = artifact.manifest["cost_ms"]
        wall = cost * (1.0 + cost * (self.calls % 3))  # waits grow with the run's length
        rep = ProfileReport(target="fake", runner="fake", latency=LatencyStats.from_samples([wall] * runs))
        if self.cpu:
            rep.extra["cpu_samples_ms"] = [cost] * runs
        return rep


def test_ratios_come_from_cpu_time_where_the_runner_reports_it(tmp_path):
    cand, base = _art(tmp_path, "int8", 1.0), _art(tmp_path, "fp32", 2.0)
    timing = interleave(BusyCores(), cand, base, {}, runs=30, warmup=0)
    assert timing.clock == "thread CPU time" and timing.to_dict()["clock"] == "thread CPU time"
    assert timing.ratios == pytest.approx([2.0] * timing.rounds)
    # the wall-clock samples are kept for the latency figures
    assert timing.baseline.p50_ms > 2.0
    wall = interleave(BusyCores(cpu=False), cand, base, {}, runs=30, warmup=0)
    assert wall.clock == "wall clock" and wall.speedup != pytest.approx(2.0)


def test_host_runner_reports_thread_cpu_time_with_one_thread(tmp_path):
    pytest.importorskip("ai_edge_litert.interpreter")
    import edgeq
    from edgeq_tflite.runners.host import HostRunner

    onnx = save(small_cnn(), tmp_path / "cnn.onnx")
    arts = edgeq.build(str(onnx), targets=["tflite"], calibration=cnn_feeds(8), output_dir=tmp_path / "b",
                       progress=False, cache_dir=str(tmp_path / "c"), layer_sqnr_samples=0)
    one = HostRunner(threads=1).profile(arts["tflite"], cnn_feeds(1), runs=7, warmup=1)
    cpu = one.extra["cpu_samples_ms"]
    assert len(cpu) == 7 and all(c > 0 for c in cpu)
    # CPU time of the calling thread cannot exceed the wall-clock time of the same run
    assert all(c <= w + 0.05 for c, w in zip(cpu, one.latency.samples_ms))
    two = HostRunner(threads=2).profile(arts["tflite"], cnn_feeds(1), runs=3, warmup=0)
    assert "cpu_samples_ms" not in two.extra
