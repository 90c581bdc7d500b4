"""Parse the output of TFLite / LiteRT's ``benchmark_model`` tool, and turn it into
:class:`LatencyStats` (:func:`latency_from_benchmark`).

``benchmark_model`` prints only count, mean, std, min and max of its regular runs (a
``tsl::Stat``), no percentiles. The adb runner therefore combines two measurements: the
bulk run (many invocations in one process, after warm-up) for mean/std/min/max/init, and
a few separate single-inference invocations (each after its own warm-up) whose times are
real per-run samples for p50/p90.

The formats come from the tool's sources (``tensorflow/lite/tools/benchmark``):

- ``BenchmarkModel::Run`` prints ``Initialized session in 3.2ms.``, then for the warm-up
  and the regular runs ``Running benchmark for at least N iterations …`` followed by a
  ``tsl::Stat`` line ``count=50 first=9123 curr=7901 min=7800 max=9123 avg=7900.1 std=85``
  (microseconds; ``count=N curr=X`` or ``count=N curr=X(all same)`` when min == max).
- ``BenchmarkLoggingListener::OnBenchmarkEnd``: ``Inference timings in us: Init: 3214,
  First inference: 9123, Warmup (avg): 8000.5, Inference (avg): 7900.1`` and
  ``Memory footprint delta from the start of the tool (MB): init=2.1 overall=5.3``
  (older: ``Peak memory footprint (MB): init=… overall=…``), plus ``Overall peak memory
  footprint (MB) via periodic monitoring: 9.2`` with ``--report_peak_memory_footprint``.
- With ``--enable_op_profiling=true`` the ``ProfilingListener`` prints ``Operator-wise
  Profiling Info for Regular Benchmark Runs:`` and the ``StatsCalculator`` tables: a
  tab-separated ``Run Order`` table with columns ``[node type] [start]? [first] [avg ms]
  [%] [cdf%] [mem KB] [times called] [Name]`` (``[start]`` only in older versions) and
  names like ``[conv1/Relu]:3``.

Current releases prefix log lines with ``INFO: `` / ``WARN: `` / ``ERROR: ``; older ones
do not. Both are accepted. Numbers may use C++ stream formatting (``1.23457e+06``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from edgeq.sdk import DeviceError, LatencyStats, percentile

_PREFIX = re.compile(r"^(?:INFO|WARN|WARNING|ERROR|VERBOSE|DEBUG): ?")
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STAT = re.compile(
    rf"count=(?P<count>\d+)(?: first=(?P<first>{_NUM}))? curr=(?P<curr>{_NUM})"
    rf"(?: min=(?P<min>{_NUM}) max=(?P<max>{_NUM}) avg=(?P<avg>{_NUM}) std=(?P<std>{_NUM}))?")
_TIMINGS = re.compile(r"inference timings in us:\s*(.*)$", re.I)
_MEM = re.compile(rf"(?:Memory footprint delta from the start of the tool|Peak memory footprint) "
                  rf"\(MB\): init=(?P<init>{_NUM}) overall=(?P<overall>{_NUM})")
_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: (?P<peak>{_NUM})")
_SIZE = re.compile(rf"The input model file size \(MB\): (?P<size>{_NUM})")
_INIT = re.compile(rf"Initialized session in (?P<ms>{_NUM})ms")
_NAME = re.compile(r"^\[(?P<name>.*)\]:(?P<index>\d+)$")
_DELEGATE = re.compile(r"(Created TensorFlow Lite .*delegate|Explicitly applied .* delegate|"
                       r"Though .* delegate is explicitly applied)", re.I)


@dataclass
class RunStats:
    """One ``tsl::Stat`` line of run times, in microseconds."""

    count: int
    first_us: float
    curr_us: float
    min_us: float
    max_us: float
    avg_us: float
    std_us: float

    @classmethod
    def parse(cls, line: str) -> "RunStats | None":
        m = _STAT.search(line)
        if not m:
            return None
        curr = float(m["curr"])
        if m["avg"] is None:  # "count=N curr=X(all same)": every run took X
            return cls(int(m["count"]), curr, curr, curr, curr, curr, 0.0)
        return cls(int(m["count"]), float(m["first"]), curr, float(m["min"]), float(m["max"]),
                   float(m["avg"]), float(m["std"]))


@dataclass
class OpRecord:
    """One row of the operator-wise profile (times in milliseconds)."""

    node_type: str
    name: str
    index: int | None
    first_ms: float
    avg_ms: float
    percent: float
    cdf_percent: float
    mem_kb: float
    times_called: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchmarkOutput:
    """Everything edgeq uses from one ``benchmark_model`` invocation (times in ms)."""

    init_ms: float | None = None
    first_inference_ms: float | None = None
    warmup_avg_ms: float | None = None
    inference_avg_ms: float | None = None
    warmup: RunStats | None = None
    inference: RunStats | None = None
    init_mem_mb: float | None = None
    overall_mem_mb: float | None = None
    peak_mem_mb: float | None = None
    model_size_mb: float | None = None
    ops: list[OpRecord] = field(default_factory=list)
    delegates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unconsumed_flags: list[str] = field(default_factory=list)

    @property
    def memory_mb(self) -> float | None:
        """Best available memory figure: periodic peak, else the overall footprint."""
        return self.peak_mem_mb if self.peak_mem_mb is not None else self.overall_mem_mb

    def summary(self) -> dict[str, Any]:
        inf = self.inference
        return {k: v for k, v in {
            "init_ms": self.init_ms, "first_inference_ms": self.first_inference_ms,
            "warmup_avg_ms": self.warmup_avg_ms, "inference_avg_ms": self.inference_avg_ms,
            "runs": inf.count if inf else None,
            "min_ms": inf.min_us / 1e3 if inf else None, "max_ms": inf.max_us / 1e3 if inf else None,
            "std_ms": inf.std_us / 1e3 if inf else None,
            "init_mem_mb": self.init_mem_mb, "overall_mem_mb": self.overall_mem_mb,
            "peak_mem_mb": self.peak_mem_mb, "model_size_mb": self.model_size_mb,
            "delegates": self.delegates or None,
        }.items() if v is not None}


def _timings(text: str) -> dict[str, float]:
    """``Init: 3214, First inference: 9123, …`` → {"init": 3214.0, "first inference": …}."""
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition(":")
        if sep:
            try:
                out[key.strip().lower()] = float(value.strip())
            except ValueError:
                pass
    return out


def _op_row(line: str, columns: list[str]) -> OpRecord | None:
    """Parse one table row given the header's column names (``[node type]`` … ``[Name]``)."""
    if "\t" in line:
        cells = [c.strip() for c in line.split("\t")]
        cells = cells[1:] if cells and cells[0] == "" else cells
    else:  # space-aligned variant: node type may contain blanks, numbers follow
        tokens = line.split()
        k = len(columns) - 2
        start = next((i for i in range(1, len(tokens) - k + 1)
                      if all(re.fullmatch(rf"{_NUM}%?", t) for t in tokens[i:i + k])), None)
        if start is None:
            return None
        cells = [" ".join(tokens[:start]), *tokens[start:start + k], " ".join(tokens[start + k:])]
    if len(cells) < len(columns):
        return None
    row = dict(zip(columns, cells[:len(columns) - 1] + ["\t".join(cells[len(columns) - 1:])]))
    try:
        num = {k: float(row[k].rstrip("%")) for k in ("first", "avg ms", "%", "cdf%", "mem KB")}
        times = int(float(row.get("times called", "0")))
    except (KeyError, ValueError):
        return None
    raw = row.get("Name", "")
    m = _NAME.match(raw)
    name, index = (m["name"], int(m["index"])) if m else (raw.strip("[]"), None)
    return OpRecord(row["node type"], name, index, num["first"], num["avg ms"], num["%"],
                    num["cdf%"], num["mem KB"], times)


def parse_benchmark_output(text: str, *, source: str = "benchmark_model") -> BenchmarkOutput:
    """Parse one invocation's combined stdout/stderr.

    Raises :class:`DeviceError` when the text holds no run statistics at all (the tool
    crashed, printed its usage, or is not ``benchmark_model``).
    """
    res = BenchmarkOutput()
    runs: list[RunStats] = []
    expect_stat = False
    section: str | None = None  # which op profile we are in: "regular" or "init"
    in_run_order = False  # only the first table (Run Order) lists every op exactly once
    columns: list[str] | None = None
    for raw in text.splitlines():
        line = _PREFIX.sub("", raw.rstrip("\r"))
        stripped = line.strip()
        if raw.startswith("ERROR:") and stripped:
            res.errors.append(stripped)
        if raw.startswith(("WARN:", "WARNING:")):
            res.warnings.append(stripped)
        if "Unconsumed cmdline flags:" in line:
            res.unconsumed_flags += line.split("Unconsumed cmdline flags:", 1)[1].split()
            continue
        if "Operator-wise Profiling Info for Regular Benchmark Runs" in line:
            section, in_run_order = "regular", False
            continue
        if "Profiling Info for Benchmark Initialization" in line:
            section, in_run_order = "init", False
            continue
        if section and stripped.startswith("====="):
            in_run_order, columns = "Run Order" in stripped, None
            continue
        if section and in_run_order:
            if "[node type]" in line:
                columns = re.findall(r"\[([^\]]+)\]", line)
            elif columns and stripped and section == "regular":
                op = _op_row(line, columns)
                if op is not None:
                    res.ops.append(op)
            elif columns and not stripped:
                in_run_order = False
            continue
        if stripped.startswith("Running benchmark for at least"):
            expect_stat = True
            continue
        if expect_stat and stripped.startswith("count="):
            stat = RunStats.parse(stripped)
            if stat is not None:
                runs.append(stat)
            expect_stat = False
            continue
        if m := _TIMINGS.search(line):
            t = _timings(m.group(1))
            res.init_ms = t["init"] / 1e3 if "init" in t else res.init_ms
            first = t.get("first inference")
            res.first_inference_ms = first / 1e3 if first is not None else None
            warm = t.get("warmup (avg)", t.get("warmup"))
            res.warmup_avg_ms = warm / 1e3 if warm is not None else None
            avg = t.get("inference (avg)", t.get("inference"))
            res.inference_avg_ms = avg / 1e3 if avg is not None else None
        elif m := _MEM.search(line):
            res.init_mem_mb, res.overall_mem_mb = float(m["init"]), float(m["overall"])
        elif m := _PEAK.search(line):
            res.peak_mem_mb = float(m["peak"])
        elif m := _SIZE.search(line):
            res.model_size_mb = float(m["size"])
        elif m := _INIT.search(line):
            if res.init_ms is None:
                res.init_ms = float(m["ms"])
        elif _DELEGATE.search(line):
            res.delegates.append(stripped)
    # BenchmarkModel::Run runs the warm-up first, then the regular runs
    if len(runs) >= 2:
        res.warmup, res.inference = runs[-2], runs[-1]
    elif runs:
        res.inference = runs[0]
    if res.inference_avg_ms is None and res.inference is not None and res.inference.count:
        res.inference_avg_ms = res.inference.avg_us / 1e3
    if res.inference_avg_ms is None:
        head = "\n".join(text.strip().splitlines()[:15]) or "(no output)"
        raise DeviceError(f"{source}: output has no inference timings ('Inference timings in "
                          f"us' / 'count=' lines); is this TFLite's benchmark_model? Output "
                          f"begins:\n{head}")
    return res


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
