"""The versioned schema of ``report.json`` (one format for every runner).

``schema`` is ``"edgeq.profile-report"`` and ``schema_version`` an integer bumped on
every incompatible change; readers reject versions they do not know. A report has one
*section* per device (one for a host run, several for ``--device all``)::

    {"schema": "edgeq.profile-report", "schema_version": 1,
     "edgeq_version": "0.1.0", "created_utc": "2025-01-01T12:00:00Z",
     "target": "tflite", "runner": "adb",
     "artifact": {"path": "...", "model_file": "model.tflite", "size_bytes": 123, "size_mb": 0.000123},
     "sections": [{"name": "R5CT… (SM-S918B)",
                   "device": {"serial", "kind", "model", "soc", "abi", "os_version", "extra"},
                   "latency": {"runs", "p50_ms", "p90_ms", "mean_ms", "min_ms", "max_ms",
                               "std_ms", "load_ms", "samples_ms": [...]},
                   "peak_memory_mb": 5.3,
                   "accuracy": {"samples", "sqnr_db", "cosine_mean", "cosine_min",
                                "max_abs_error", "top1_agreement", "reference",
                                "outputs": {name: {...}}, "per_layer": [{"name", "sqnr_db"}]},
                   "op_profile": [{"node_type", "name", "index", "first_ms", "avg_ms",
                                   "percent", "cdf_percent", "mem_kb", "times_called"}],
                   "extra": {...}}],
     "comparison": {"baseline": {"label": "fp32", "latency_p50_ms", "latency_mean_ms", "size_mb"},
                    "candidate": {...}, "speedup": 2.9, "size_ratio": 0.26} | null,
     "gates": [{"expr", "metric", "op", "threshold", "value", "passed", "section", "message"}]}

Times are milliseconds, sizes MB (10^6 bytes, as ``benchmark_model`` prints them).
Validation uses pydantic; :func:`json_schema` exports the JSON Schema.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from edgeq.contracts import LatencyStats

SCHEMA_NAME = "edgeq.profile-report"
SCHEMA_VERSION = 1


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _latency_model() -> type[BaseModel]:
    """The report's latency object, made from :class:`edgeq.contracts.LatencyStats` itself so
    that runners and the report cannot disagree on a field (one latency schema)."""
    hints = typing.get_type_hints(LatencyStats)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(LatencyStats):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = ...
        fields[f.name] = (hints[f.name], Field(default, ge=0) if f.name == "runs" else default)
    return create_model("Latency", __base__=_Open, **fields)


Latency = _latency_model()


class Device(_Open):
    serial: str
    kind: str
    model: str | None = None
    soc: str | None = None
    abi: str | None = None
    os_version: str | None = None
    extra: dict[str, Any] = {}


class OpRow(_Open):
    node_type: str
    name: str
    index: int | None = None
    first_ms: float | None = None
    avg_ms: float
    percent: float | None = None
    cdf_percent: float | None = None
    mem_kb: float | None = None
    times_called: int | None = None


class OutputAccuracy(_Open):
    sqnr_db: float | None = None
    cosine_mean: float | None = None
    cosine_min: float | None = None
    max_abs_error: float | None = None
    mean_abs_error: float | None = None
    top1_agreement: float | None = None
    decision_agreement: float | None = Field(default=None, ge=0.0, le=1.0)


class LayerSqnr(_Open):
    name: str
    sqnr_db: float | None


class Accuracy(_Open):
    samples: int | None = None
    sqnr_db: float | None = None
    cosine_mean: float | None = None
    cosine_min: float | None = None
    max_abs_error: float | None = None
    mean_abs_error: float | None = None
    top1_agreement: float | None = Field(default=None, ge=0.0, le=1.0)
    decision_agreement: float | None = Field(default=None, ge=0.0, le=1.0)
    reference: str | None = None
    outputs: dict[str, OutputAccuracy] = {}
    per_layer: list[LayerSqnr] = []


class Section(_Closed):
    name: str
    device: Device | None = None
    latency: Latency | None = None
    peak_memory_mb: float | None = None
    accuracy: Accuracy = Accuracy()
    op_profile: list[OpRow] = []
    extra: dict[str, Any] = {}


class Variant(_Closed):
    label: str
    latency_p50_ms: float | None = None
    latency_mean_ms: float | None = None
    size_mb: float | None = None
    peak_memory_mb: float | None = None


class Paired(_Open):
    """How the speed-up was measured: interleaved rounds (edgeq/profile/paired.py)."""

    method: str
    rounds: int = Field(ge=1)
    runs_per_block: int = Field(ge=1)
    speedup: float
    speedup_iqr: list[float]
    candidate_cv: float | None = None
    baseline_cv: float | None = None
    load_average_before: float | None = None
    load_average_after: float | None = None
    #: what the per-round ratios compare: "thread CPU time" or "wall clock"
    clock: str | None = None


class Comparison(_Closed):
    baseline: Variant
    candidate: Variant
    speedup: float | None = None
    size_ratio: float | None = None
    paired: Paired | None = None


class GateRecord(_Closed):
    expr: str
    metric: str
    op: Literal["<=", ">=", "<", ">", "=="]
    threshold: float
    value: float | None
    passed: bool
    section: str | None = None
    message: str


class Report(_Closed):
    schema_name: Literal["edgeq.profile-report"] = Field(alias="schema")
    schema_version: Literal[1]
    edgeq_version: str
    created_utc: str
    target: str
    runner: str
    artifact: dict[str, Any] = {}
    sections: list[Section] = Field(min_length=1)
    comparison: Comparison | None = None
    gates: list[GateRecord] = []


def validate_report(data: dict[str, Any], *, source: str = "report") -> Report:
    """Validate a report dict; raise ``ValueError`` naming the first bad fields."""
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ValueError(f"{source}: schema_version {version} is newer than this edgeq "
                         f"understands ({SCHEMA_VERSION}); upgrade edgeq")
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise ValueError(f"{source}: not a valid {SCHEMA_NAME} v{SCHEMA_VERSION}: {problems}") from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of report.json (for external validators)."""
    schema = Report.model_json_schema(by_alias=True)
    schema["title"] = f"{SCHEMA_NAME} v{SCHEMA_VERSION}"
    return schema
