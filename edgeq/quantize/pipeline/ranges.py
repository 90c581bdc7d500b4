"""Activation ranges for the builder: an observer over the calibration statistics, plus
the ranges the lowering hints dictate.

* :class:`RangeChooser` maps ``(tensor, dtype)`` to ``(lo, hi)`` with the chosen observer
  (``method``) for int8 and ``method16`` (default ``minmax``: 16 bits leave no rounding
  error worth trading against clipping) for int16, memoised.
* :func:`hinted_ranges` turns the lowering hints into range overrides:
  attention-mask additions (``lower_attention_mask``) get the sum range
  ``[lo - MASK_MARGIN, hi]`` and the bias range ``[-K, 0]`` with ``K = hi - lo + MASK_MARGIN``
  from the scores' range ``[lo, hi]``: a masked position saturates at ``lo - MASK_MARGIN``,
  at least ``MASK_MARGIN`` below *every* attended score of its row (the margin must hold
  for the row with the lowest maximum, and only the global minimum bounds that), where
  its softmax weight ``e^-10 ≈ 4.5e-5`` vanishes;
  the reciprocal square roots of ``lower_sqrt`` get ``[0, 1/sqrt(s_x)]``, reaching the
  smallest non-zero input.
"""

from __future__ import annotations

import logging
import math

from edgeq.calibrate.observers import get_observer
from edgeq.errors import CalibrationError
from edgeq.quantize.arith import scheme
from edgeq.types import QDType

log = logging.getLogger(__name__)

MASK_MARGIN = 10.0


class RangeChooser:
    """``(tensor, dtype) -> (lo, hi)``; ``clip16`` names tensors whose int16 range is a
    percentile (99.99) range rather than ``method16``'s (spectra, see lower_sqrt)."""

    def __init__(self, calibration, method="mse", method16="minmax", clip16=frozenset(),
                 **observer_options) -> None:
        self.calib = calibration
        self.observer = get_observer(method, **observer_options)
        self.observer16 = get_observer(method16)
        self.clip16 = set(clip16)
        self.clip16_observer = get_observer("percentile", percentile=99.99)
        self._memo: dict[tuple[str, QDType], tuple[float, float]] = {}

    def __call__(self, name: str, dtype: QDType) -> tuple[float, float]:
        dtype = QDType(dtype)
        key = (name, dtype)
        if key not in self._memo:
            stats = self.calib.stats.get(name)
            if stats is None:
                raise CalibrationError(f"no calibration statistics for tensor '{name}'; the "
                                       f"statistics do not match this graph (clear the cache)")
            if stats.nonfinite:
                raise CalibrationError(
                    f"tensor '{name}' took {stats.nonfinite} non-finite values during "
                    f"calibration (NaN/Inf); an infinite value must never reach a "
                    f"quantization range. Check the model/data (e.g. a log of 0, a -inf mask)")
            sym = scheme.is_symmetric(dtype)
            obs = self.observer16 if dtype == QDType.INT16 else self.observer
            if dtype == QDType.INT16 and name in self.clip16:
                obs = self.clip16_observer
            self._memo[key] = obs.choose_range(stats, levels=scheme.levels(dtype, sym), symmetric=sym)
        return self._memo[key]


def hinted_ranges(graph, hints, chooser: RangeChooser, dtype_of) -> dict[str, tuple[float, float]]:
    """Range overrides ``{float tensor: (lo, hi)}`` from the lowering hints.

    ``dtype_of(tensor)`` is the storage type the builder will give a tensor.
    """
    producers = graph.producers()
    overrides: dict[str, tuple[float, float]] = {}
    for add, scores, bias in hints.mask_adds:
        out = graph.node_by_name(add).outputs[0]
        lo, hi = chooser(scores, dtype_of(scores))
        lo_out = lo - MASK_MARGIN
        overrides[out] = (lo_out, hi)
        k = hi - lo_out
        # the bias and the producers of its value (same tensor up to reshapes) saturate at -K
        name = bias
        while name is not None:
            prev = overrides.get(name, (0.0, 0.0))
            overrides[name] = (min(prev[0], -k), 0.0)
            node = producers.get(name)
            if node is None or node.op_type not in ("Unsqueeze", "Reshape", "Expand", "Mul"):
                break
            name = node.inputs[0] if node.op_type != "Mul" else None
    for r, x in hints.rsqrt_of.items():
        dtype = dtype_of(x)
        p = scheme.activation_params(*chooser(x, dtype), dtype)
        overrides[r] = (0.0, 1.0 / math.sqrt(float(p.scale[0])))
    return overrides
