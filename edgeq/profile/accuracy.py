"""Accuracy of a deployed model against its FP32 reference.

For every output tensor, over all evaluation samples:

- SQNR in dB: ``10·log10(Σ ref² / Σ (ref − out)²)`` over every element of every sample
  (signal-to-quantization-noise ratio, as in ai-edge-quantizer's and AIMET's per-tensor
  reports). Identical outputs are reported as ``SQNR_CAP_DB``. The formulas live in
  :mod:`edgeq.metrics`, shared with ``edgeq compare``.
- cosine similarity of each sample's flattened output with the reference (mean, min);
- max / mean absolute error;
- top-1 agreement: the fraction of rows whose arg-max over the last axis matches the
  reference's (only for outputs whose last axis has ≥ 2 entries, e.g. class logits).

The summary keys (``sqnr_db``, ``cosine_mean``, ``cosine_min``, ``max_abs_error``) are the
*worst* over outputs, so a gate on them holds for every output; ``top1_agreement`` is
that of the first output that has one.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from edgeq.errors import UsageError
from edgeq.metrics import SQNR_CAP_DB, cosine, sqnr_db, top1_matches  # noqa: F401 (re-exported)

def compare_outputs(outputs: Sequence[Mapping[str, np.ndarray]],
                    references: Sequence[Mapping[str, np.ndarray]]) -> dict[str, Any]:
    """Accuracy metrics of ``outputs`` against ``references`` (one dict per sample).

    Every reference output must be present in every sample with the same shape;
    a mismatch is a :class:`UsageError` naming the sample, output and shapes.
    """
    if len(outputs) != len(references):
        raise UsageError(f"accuracy: {len(outputs)} output samples but {len(references)} reference "
                         "samples; run the reference on the same evaluation inputs")
    if not outputs:
        raise UsageError("accuracy: no evaluation samples; give evaluation data (--data)")
    names = list(references[0])
    per: dict[str, dict[str, Any]] = {}
    for name in names:
        refs, outs, cos, agree = [], [], [], []
        for i, (o, r) in enumerate(zip(outputs, references)):
            if name not in o:
                raise UsageError(f"accuracy: sample {i} has no output {name!r} (it has "
                                 f"{sorted(o)}); check the artifact's output names")
            ref = np.asarray(r[name])
            out = np.asarray(o[name])
            if out.shape != ref.shape:
                if out.size != ref.size:
                    raise UsageError(f"accuracy: output {name!r} of sample {i} has shape "
                                     f"{list(out.shape)}, the reference {list(ref.shape)}")
                out = out.reshape(ref.shape)
            refs.append(ref.astype(np.float64).ravel())
            outs.append(out.astype(np.float64).ravel())
            cos.append(cosine(ref, out))
            t = top1_matches(ref, out)
            if t is not None:
                agree.append(t)
        ref_all, out_all = np.concatenate(refs), np.concatenate(outs)
        err = np.abs(ref_all - out_all)
        per[name] = {
            "sqnr_db": sqnr_db(ref_all, out_all),
            "cosine_mean": float(np.mean(cos)),
            "cosine_min": float(np.min(cos)),
            "max_abs_error": float(err.max()) if err.size else 0.0,
            "mean_abs_error": float(err.mean()) if err.size else 0.0,
            "top1_agreement": float(np.mean(np.concatenate(agree))) if agree else None,
            # a probability output (every reference value in [0, 1]): the same side of 0.5
            "decision_agreement": (float(np.mean((ref_all >= 0.5) == (out_all >= 0.5)))
                                   if ref_all.size and ref_all.min() >= 0.0 and ref_all.max() <= 1.0
                                   else None),
        }
    summary: dict[str, Any] = {
        "samples": len(outputs),
        "sqnr_db": min(v["sqnr_db"] for v in per.values()),
        "cosine_mean": min(v["cosine_mean"] for v in per.values()),
        "cosine_min": min(v["cosine_min"] for v in per.values()),
        "max_abs_error": max(v["max_abs_error"] for v in per.values()),
        "mean_abs_error": max(v["mean_abs_error"] for v in per.values()),
        "decision_agreement": min((v["decision_agreement"] for v in per.values()
                                   if v["decision_agreement"] is not None), default=None),
        "top1_agreement": next((v["top1_agreement"] for v in per.values()
                                if v["top1_agreement"] is not None), None),
        "outputs": per,
    }
    return summary


def attach_accuracy(report, references: Sequence[Mapping[str, np.ndarray]], *,
                    reference_label: str = "fp32") -> dict[str, Any]:
    """Compare ``report.outputs`` with ``references`` and store the metrics in
    ``report.accuracy`` (keeping keys already there, e.g. ``per_layer``); returns them.
    For a multi-device report every section is compared."""
    sections = report.extra.get("sections") or [report]
    result: dict[str, Any] = {}
    for sec in sections:
        result = compare_outputs(sec.outputs, references)
        result["reference"] = reference_label
        sec.accuracy.update(result)
    return result
