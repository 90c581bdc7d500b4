"""What an accuracy figure was measured on: the data (kind, path or zoo source, split,
number of samples, fingerprint), the calibration the quantized model came from (samples,
fingerprint) and what was compared with what. ``edgeq compare``, ``edgeq sensitivity``
and ``edgeq profile`` attach the same record to every figure they print or write, so a
number never appears without its data."""

from __future__ import annotations

from typing import Any


def data_record(data: Any, samples: int, split: str | None = None) -> dict[str, Any]:
    """The data a figure was measured on: a Dataset's kind, path and fingerprint, or
    "feeds" for a plain iterable; ``samples`` is how many were used."""
    record: dict[str, Any] = {"kind": getattr(data, "kind", None) or "feeds", "samples": int(samples)}
    path = getattr(data, "path", None)
    if path:
        record["path"] = str(path)
    zoo = getattr(data, "zoo", None)
    if zoo:
        record["zoo"] = zoo
    if split:
        record["split"] = split
    fingerprint = getattr(data, "fingerprint", None)
    if callable(fingerprint):
        try:
            record["fingerprint"] = fingerprint()
        except Exception:  # a dataset that cannot hash itself still has a kind and a count
            pass
    return record


def calibration_record(qmodel: Any) -> dict[str, Any]:
    """The calibration a QuantizedModel came from."""
    report = getattr(qmodel, "report", {}) or {}
    return {"samples": report.get("calibration_samples"),
            "fingerprint": getattr(qmodel, "calibration_fingerprint", None) or None,
            "spec": getattr(qmodel, "spec_name", None) or report.get("spec")}


def describe(record: dict[str, Any]) -> str:
    """One line for a terminal: "32 samples of images data/eval (fingerprint 1a2b3c4d)"."""
    where = record.get("zoo") or record.get("path") or ""
    split = f" ({record['split']} split)" if record.get("split") else ""
    fp = f", fingerprint {str(record['fingerprint'])[:8]}" if record.get("fingerprint") else ""
    return f"{record.get('samples')} samples of {record.get('kind')} {where}{split}{fp}".replace("  ", " ")
