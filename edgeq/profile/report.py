"""Profile reports: one format for every runner (host, adb, …).

Library entry points (the ``edgeq profile`` / ``edgeq build --profile`` commands are
thin wrappers around them):

- :func:`report_to_dict` — a :class:`~edgeq.contracts.ProfileReport` as the versioned
  ``report.json`` dict (schema in :mod:`edgeq.profile.report_schema`);
- :func:`write_reports` — ``report.json``, ``report.md`` and a self-contained
  ``report.html`` (plots embedded as base64 images) into a directory, each written
  atomically so a failed run never leaves a partial report;
- :func:`edgeq.profile.publish.publish` — gates, reports, JUnit and tables in CI's order;
- :func:`combine` — several per-device reports as one multi-section report
  (``--device all``); :func:`attach_baseline` — FP32 vs int8 comparison data;
- :func:`load_report` — read and validate a ``report.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from edgeq import __version__
from edgeq.errors import UsageError
from edgeq.profile.report_schema import SCHEMA_NAME, SCHEMA_VERSION, validate_report
from edgeq.profile.stats import latency_to_dict, speedup
from edgeq.contracts import LatencyStats, ProfileReport

#: keys of ProfileReport.extra with a meaning for the report itself
_RESERVED_EXTRA = ("sections", "baseline", "label")


def jsonable(obj: Any) -> Any:
    """Convert numpy values, paths and dataclasses to JSON; non-finite floats to None."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    return obj


def sections(report: ProfileReport) -> list[ProfileReport]:
    """The per-device reports inside ``report`` (itself if it has one device)."""
    return list(report.extra.get("sections") or [report])


def combine(reports: Sequence[ProfileReport]) -> ProfileReport:
    """One report with a section per device, for runs on several devices."""
    if not reports:
        raise ValueError("no reports to combine")
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    return ProfileReport(target=first.target, runner=first.runner, artifact=dict(first.artifact),
                         device={"serial": "all", "kind": "multi", "count": len(reports)},
                         extra={"sections": list(reports)})


def attach_baseline(report: ProfileReport, baseline: ProfileReport | Mapping[str, Any], *,
                    label: str = "fp32", candidate_label: str = "int8") -> None:
    """Record a baseline measurement (e.g. the FP32 artifact) for the comparison plot.

    ``baseline`` is the baseline's ProfileReport, or a mapping with ``latency``
    (LatencyStats or dict) and ``size_bytes``.
    """
    if isinstance(baseline, ProfileReport):
        sec = sections(baseline)[0]
        data = {"latency": sec.latency, "size_bytes": baseline.artifact.get("size_bytes")}
    else:
        data = dict(baseline)
    report.extra["baseline"] = {"label": label, **data}
    report.extra["label"] = candidate_label


def _device(rep: ProfileReport) -> dict[str, Any] | None:
    if not rep.device:
        return None
    d = jsonable(dict(rep.device))
    d.setdefault("serial", d.get("name") or "unknown")
    d.setdefault("kind", rep.runner)
    known = {"serial", "kind", "model", "soc", "abi", "os_version", "extra"}
    extra = dict(d.get("extra") or {})
    extra.update({k: v for k, v in d.items() if k not in known})
    return {**{k: d.get(k) for k in known if k != "extra"}, "extra": extra}


def _section(rep: ProfileReport, runner: str) -> dict[str, Any]:
    dev = _device(rep)
    if dev and dev["serial"] != "unknown":
        name = dev["serial"] + (f" ({dev['model']})" if dev.get("model") else "")
    else:
        name = runner
    lat = latency_to_dict(rep.latency)
    return {
        "name": name,
        "device": dev,
        "latency": jsonable(lat) if lat else None,
        "peak_memory_mb": jsonable(rep.peak_memory_mb),
        "accuracy": jsonable(rep.accuracy),
        "op_profile": [jsonable(op.to_dict() if hasattr(op, "to_dict") else op) for op in rep.op_profile],
        "extra": jsonable({k: v for k, v in rep.extra.items() if k not in _RESERVED_EXTRA}),
    }


def _artifact(rep: ProfileReport) -> dict[str, Any]:
    art = jsonable(dict(rep.artifact))
    if art.get("size_bytes") is None and isinstance(art.get("bytes"), int):
        art["size_bytes"] = art.pop("bytes")  # the host runner's spelling
    if art.get("size_bytes") is not None and art.get("size_mb") is None:
        art["size_mb"] = art["size_bytes"] / 1e6
    return art


def _comparison(rep: ProfileReport, secs: list[dict], art: dict) -> dict[str, Any] | None:
    base = rep.extra.get("baseline")
    if not base:
        return None
    blat = latency_to_dict(base.get("latency")) or {}
    clat = secs[0]["latency"] or {}
    bsize = base.get("size_mb")
    if bsize is None and base.get("size_bytes") is not None:
        bsize = base["size_bytes"] / 1e6
    csize = art.get("size_mb")
    paired = base.get("paired")
    # timed interleaved with the baseline (edgeq/profile/paired.py): the candidate's own
    # samples of that measurement, and the speed-up from paired rounds
    clat = latency_to_dict(base.get("candidate_latency")) or clat
    cmem = base.get("candidate_peak_memory_mb", secs[0].get("peak_memory_mb"))
    out = {
        "baseline": {"label": base.get("label", "fp32"), "latency_p50_ms": blat.get("p50_ms"),
                     "latency_mean_ms": blat.get("mean_ms"), "size_mb": bsize},
        "candidate": {"label": rep.extra.get("label", "int8"), "latency_p50_ms": clat.get("p50_ms"),
                      "latency_mean_ms": clat.get("mean_ms"), "size_mb": csize},
        "speedup": paired["speedup"] if paired else speedup(blat.get("p50_ms"), clat.get("p50_ms")),
        "size_ratio": (csize / bsize) if csize and bsize else None,
    }
    # measured only by some runs: present when known
    for side, mem in (("baseline", base.get("peak_memory_mb")), ("candidate", cmem)):
        if mem is not None:
            out[side]["peak_memory_mb"] = mem
    if paired:
        out["paired"] = paired
    return jsonable(out)


def report_to_dict(report: ProfileReport, *, gates: Iterable | None = None) -> dict[str, Any]:
    """The report.json dict of ``report`` (see :mod:`edgeq.profile.report_schema`)."""
    secs = [_section(s, report.runner) for s in sections(report)]
    art = _artifact(report)
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "edgeq_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": report.target,
        "runner": report.runner,
        "artifact": art,
        "sections": secs,
        "comparison": _comparison(report, secs, art),
        "gates": [g.to_dict() if hasattr(g, "to_dict") else dict(g) for g in (gates or [])],
    }


def _write_atomic(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_reports(report: ProfileReport | Mapping[str, Any], out_dir: str | Path, *,
                  gates: Iterable | None = None, formats: Sequence[str] = ("json", "md", "html"),
                  plot_format: str = "png") -> dict[str, Path]:
    """Write report.json / report.md / report.html into ``out_dir``; returns the paths.

    ``report`` may also be an already built report dict (e.g. from :func:`load_report`).
    ``plot_format`` is ``"png"`` or ``"svg"`` for the images embedded in the HTML.
    """
    from edgeq.profile.report_html import render_html
    from edgeq.profile.report_md import render_markdown

    if isinstance(report, Mapping):
        data = dict(report)
        if gates is not None:
            data["gates"] = [g.to_dict() if hasattr(g, "to_dict") else dict(g) for g in gates]
    else:
        data = report_to_dict(report, gates=gates)
    validate_report(data, source="report.json")
    unknown = set(formats) - {"json", "md", "html"}
    if unknown:
        raise UsageError(f"unknown report format(s) {sorted(unknown)}; choose from json, md, html")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderers = {"json": lambda: json.dumps(data, indent=2, allow_nan=False) + "\n",
                 "md": lambda: render_markdown(data),
                 "html": lambda: render_html(data, plot_format=plot_format)}
    texts = {fmt: renderers[fmt]() for fmt in formats}  # render everything before writing
    return {fmt: _write_atomic(out / f"report.{fmt}", text) for fmt, text in texts.items()}


def load_report(path: str | Path) -> dict[str, Any]:
    """Read and validate a report.json; UsageError if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the report ({exc})") from exc
    try:
        validate_report(data, source=str(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return data


__all__ = ["LatencyStats", "ProfileReport", "attach_baseline", "combine", "jsonable", "load_report",
           "report_to_dict", "sections", "write_reports"]
