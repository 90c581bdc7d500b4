"""Accuracy metrics of a quantized model's outputs against a reference, in one place.

``edgeq compare`` (edgeq/quantize/compare.py), ``edgeq profile`` (edgeq/profile/accuracy.py),
mixed-precision search (edgeq/quantize/algorithms/mixed.py) and the benchmarks all call these
functions, so the same outputs give the same number wherever it is printed.

* SQNR = 10·log10(Σ ref² / Σ (ref − out)²) over every element of every sample, in dB.
  An output identical to its reference has no noise; it is reported as
  :data:`SQNR_CAP_DB` (200 dB, far above anything 8- or 16-bit arithmetic reaches:
  int16 quantization noise of a full-scale signal is ≈ 98 dB), not infinity, so that
  every report stays valid JSON and two code paths cannot disagree on ``inf`` vs a number.
  A zero reference with non-zero output is −SQNR_CAP_DB.
* cosine similarity of the flattened tensors in float64, clipped to [−1, 1] (rounding
  can push |cos| past 1); two zero tensors are identical (1.0), one zero tensor is
  orthogonal to anything (0.0).
* top-1 agreement: the arg-max over the last axis of reference and output match, per row.
"""

from __future__ import annotations

import math

import numpy as np

#: SQNR reported when the output equals the reference (noise power 0); see the module docstring
SQNR_CAP_DB = 200.0


def sqnr_db_from_powers(signal_power: float, noise_power: float) -> float:
    """SQNR in dB from accumulated signal and noise powers (Σ ref², Σ (ref − out)²),
    capped at ±:data:`SQNR_CAP_DB`."""
    if noise_power <= 0.0:
        return SQNR_CAP_DB
    if signal_power <= 0.0:
        return -SQNR_CAP_DB
    return float(max(-SQNR_CAP_DB, min(SQNR_CAP_DB, 10.0 * math.log10(signal_power / noise_power))))


def sqnr_db(reference: np.ndarray, output: np.ndarray) -> float:
    """SQNR in dB of ``output`` against ``reference`` (same number of elements)."""
    ref = np.asarray(reference, np.float64)
    noise = float(np.sum((ref - np.asarray(output, np.float64).reshape(ref.shape)) ** 2))
    return sqnr_db_from_powers(float(np.sum(ref ** 2)), noise)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of the flattened ``a`` and ``b`` (see the module docstring)."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))


def top1_matches(reference: np.ndarray, output: np.ndarray) -> np.ndarray | None:
    """Per row (all axes but the last), whether the arg-max of ``output`` equals the
    reference's; None when the last axis has fewer than two classes."""
    ref = np.asarray(reference)
    if ref.ndim == 0:
        return None
    classes = int(ref.shape[ref.ndim - 1])
    if classes < 2:
        return None
    out = np.asarray(output).reshape(ref.shape)
    return (np.argmax(ref.reshape(-1, classes), axis=1) ==
            np.argmax(out.reshape(-1, classes), axis=1))
