"""Build gates: pass/fail conditions on a profile report, for CI.

A gate is ``<metric><op><number>`` with op one of ``<=``, ``>=``, ``<``, ``>``, ``==``
(blanks allowed), e.g. ``latency_p50_ms<=12``, ``top1_agreement >= 0.98``. An accuracy
metric of one output (rather than the worst over all outputs) is ``<metric>[<output>]``,
e.g. ``mean_abs_error[output]<=0.02`` for a VAD's probability but not its recurrent state. They come
from ``--gate`` flags or ``profile.gates`` in ``edgeq.yaml`` (a list of such strings,
or of one-key mappings ``{latency_p50_ms: "<=12"}``).

Each gate is evaluated on every report section (every device); a metric the report
does not contain (e.g. ``top1_agreement`` without evaluation data) *fails* its gate,
since CI must not pass on a measurement that was never made. The intended order is::

    results = evaluate(report, parse_gates(specs))
    write_reports(report, out_dir, gates=results)   # the report is written first
    write_junit(results, "gates.xml")               # one <testcase> per gate
    raise_for_failures(results)                     # GateFailure, exit code 3
"""

from __future__ import annotations

import math
import operator
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from edgeq.errors import GateFailure, UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}
_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]\s]+)\])?\s*(<=|>=|==|<|>)\s*"
                   r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
#: per-output accuracy metrics a gate can select with ``metric[output]``
OUTPUT_METRICS = ("sqnr_db", "cosine_mean", "cosine_min", "max_abs_error", "mean_abs_error",
                  "top1_agreement", "decision_agreement")


def _get(d: Mapping | None, *path: str) -> float | None:
    for key in path:
        if not isinstance(d, Mapping) or d.get(key) is None:
            return None
        d = d[key]
    return float(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else None


@dataclass(frozen=True)
class Metric:
    description: str
    get: Callable[[Mapping, Mapping], float | None]  # (section, report) -> value


#: every metric a gate can use: name -> (description, getter over the report dict)
METRICS: dict[str, Metric] = {
    "latency_p50_ms": Metric("median latency (ms)", lambda s, r: _get(s, "latency", "p50_ms")),
    "latency_p90_ms": Metric("90th percentile latency (ms)", lambda s, r: _get(s, "latency", "p90_ms")),
    "latency_mean_ms": Metric("mean latency (ms)", lambda s, r: _get(s, "latency", "mean_ms")),
    "latency_min_ms": Metric("fastest run (ms)", lambda s, r: _get(s, "latency", "min_ms")),
    "latency_max_ms": Metric("slowest run (ms)", lambda s, r: _get(s, "latency", "max_ms")),
    "latency_std_ms": Metric("latency standard deviation (ms)", lambda s, r: _get(s, "latency", "std_ms")),
    "load_ms": Metric("model load / init time (ms)", lambda s, r: _get(s, "latency", "load_ms")),
    "peak_memory_mb": Metric("peak memory (MB)", lambda s, r: _get(s, "peak_memory_mb")),
    "size_mb": Metric("artifact model size (MB)", lambda s, r: _get(r, "artifact", "size_mb")),
    "top1_agreement": Metric("top-1 agreement with FP32 (0..1)", lambda s, r: _get(s, "accuracy", "top1_agreement")),
    "sqnr_db": Metric("output SQNR vs FP32 (dB, worst output)", lambda s, r: _get(s, "accuracy", "sqnr_db")),
    "mean_abs_error": Metric("mean absolute output error vs FP32 (worst output)",
                             lambda s, r: _get(s, "accuracy", "mean_abs_error")),
    "decision_agreement": Metric("probability outputs on the same side of 0.5 as FP32 (0..1, worst "
                                 "probability output)", lambda s, r: _get(s, "accuracy", "decision_agreement")),
    "cosine_mean": Metric("mean cosine similarity vs FP32", lambda s, r: _get(s, "accuracy", "cosine_mean")),
    "cosine_min": Metric("worst-sample cosine similarity vs FP32", lambda s, r: _get(s, "accuracy", "cosine_min")),
    "max_abs_error": Metric("max absolute output error vs FP32", lambda s, r: _get(s, "accuracy", "max_abs_error")),
    "speedup": Metric("baseline / this latency (e.g. FP32 vs int8), from interleaved rounds when "
                      "timed with a baseline (median of paired ratios)",
                      lambda s, r: _get(r, "comparison", "speedup")),
    "size_ratio": Metric("this size / baseline size", lambda s, r: _get(r, "comparison", "size_ratio")),
}


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    threshold: float
    expr: str
    #: the output an accuracy metric is read from (None: the worst over outputs)
    output: str | None = None

    def value(self, section: Mapping, report: Mapping) -> float | None:
        if self.output is not None:
            return _get(section, "accuracy", "outputs", self.output, self.metric)
        return METRICS[self.metric].get(section, report)

    @classmethod
    def parse(cls, text: str) -> "Gate":
        m = _GATE.match(str(text))
        if not m:
            raise UsageError(f"invalid gate {text!r}: expected METRIC OP NUMBER with OP one of "
                             "<=, >=, <, >, == (e.g. 'latency_p50_ms<=12')")
        metric, output, op, number = m.groups()
        if output is not None:
            if metric not in OUTPUT_METRICS:
                raise UsageError(f"gate {text!r}: metric {metric!r} is not a per-output accuracy "
                                 f"metric; per-output metrics: {', '.join(OUTPUT_METRICS)}")
            return cls(metric, op, float(number), f"{metric}[{output}]{op}{number}", output)
        if metric not in METRICS:
            raise UsageError(f"unknown gate metric {metric!r} in {text!r}; known metrics: "
                             f"{', '.join(sorted(METRICS))}")
        return cls(metric, op, float(number), f"{metric}{op}{number}")

    def check(self, value: float | None) -> bool:
        return value is not None and math.isfinite(value) and _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    section: str | None
    value: float | None
    passed: bool

    @property
    def message(self) -> str:
        where = f" on {self.section}" if self.section else ""
        if self.value is None:
            return f"{self.gate.expr}: {self.gate.metric} was not measured{where} (FAIL)"
        verdict = "pass" if self.passed else "FAIL"
        return (f"{self.gate.expr}: {self.gate.metric} = {self.value:.6g}{where}, required "
                f"{self.gate.op} {self.gate.threshold:g} ({verdict})")

    def to_dict(self) -> dict[str, Any]:
        return {"expr": self.gate.expr, "metric": self.gate.metric, "op": self.gate.op,
                "threshold": self.gate.threshold, "value": self.value, "passed": self.passed,
                "section": self.section, "message": self.message}


def parse_gates(items: Iterable[str | Mapping[str, Any]] | None) -> list[Gate]:
    """Gates from CLI strings and/or ``profile.gates`` config entries."""
    gates = []
    for item in items or []:
        if isinstance(item, Mapping):
            if len(item) != 1:
                raise UsageError(f"invalid gate {dict(item)!r}: a mapping gate has one key, e.g. "
                                 "{latency_p50_ms: '<=12'}")
            (metric, cond), = item.items()
            item = f"{metric}{cond}"
        gates.append(Gate.parse(item))
    return gates


def evaluate(report, gates: Iterable[Gate | str]) -> list[GateResult]:
    """Evaluate gates on every section of ``report`` (a ProfileReport or report dict)."""
    from edgeq.profile.report import report_to_dict

    data = report if isinstance(report, Mapping) else report_to_dict(report)
    gates = [g if isinstance(g, Gate) else Gate.parse(g) for g in gates]
    sections = data.get("sections") or []
    label = len(sections) > 1
    results = []
    for gate in gates:
        for sec in sections:
            value = gate.value(sec, data)
            results.append(GateResult(gate, sec.get("name") if label else None, value, gate.check(value)))
    return results


def write_junit(results: Iterable[GateResult], path: str | Path, *, suite: str = "edgeq.gates") -> Path:
    """JUnit XML with one ``<testcase>`` per gate (and device), for CI test views."""
    results = list(results)
    failures = [r for r in results if not r.passed]
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(len(failures)))
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)),
                       failures=str(len(failures)), errors="0", skipped="0")
    for r in results:
        classname = suite + ("." + re.sub(r"[^A-Za-z0-9_-]+", "_", r.section).strip("_") if r.section else "")
        tc = ET.SubElement(ts, "testcase", name=r.gate.expr, classname=classname, time="0")
        ET.SubElement(tc, "system-out").text = r.message
        if not r.passed:
            f = ET.SubElement(tc, "failure", type="GateFailure", message=r.message)
            f.text = r.message
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path


def raise_for_failures(results: Iterable[GateResult]) -> None:
    """Raise :class:`GateFailure` (exit code 3) naming every failing gate."""
    results = list(results)
    failed = [r for r in results if not r.passed]
    if failed:
        raise GateFailure(f"{len(failed)} of {len(results)} gate checks failed: "
                          + "; ".join(r.message for r in failed))
