"""Quantization algorithms, and the registry of weight-rounding algorithms by name.

The algorithms: weight rounding (:mod:`.gptq`, :mod:`.adaround`, round-to-nearest),
:mod:`.bias_correction`, cross-layer :mod:`.equalize`, :mod:`.residual_scaling` of a
transformer's residual stream, and mixed-precision search (:mod:`.mixed`, with its
budgets in :mod:`.budget`).

``QuantizeOptions.weight_rounding`` names an entry of :data:`WEIGHT_ROUNDING`; the
pipeline looks it up there instead of branching on strings. An entry says whether it
needs GPTQ's input statistics from calibration (``needs_hessians``) and applies itself
to the pipeline's Builder (``apply(builder, dataset)``), which holds the lowered graph,
calibration statistics, spec and options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class WeightRounding:
    """A weight-rounding algorithm: ``apply(builder, dataset)`` sets the builder's
    rounded weights (``weight_cache``/``gptq_weights``) or replaces the graph it builds
    from (``graph_for_build``), and records its report."""

    name: str
    needs_hessians: bool
    apply: Callable[[Any, Any], None]
    summary: str = ""


def _nearest(builder, dataset) -> None:
    """Round to nearest: the quantizer's default arithmetic, nothing to prepare."""


def _gptq(builder, dataset) -> None:
    from edgeq.quantize.algorithms.gptq import gptq_weights

    if builder.calib.hessians:
        builder.gptq_weights = gptq_weights(
            builder.lowered, builder.calib.hessians, per_channel_ops=builder.spec.per_channel_ops,
            weight_clip=builder.opts.weight_clip, weight_cache=builder.weight_cache)


def _adaround(builder, dataset) -> None:
    from edgeq.quantize.algorithms.adaround import adaround_builder

    builder.graph_for_build, builder.adaround = adaround_builder(builder, dataset)


#: name -> algorithm; the names are the values of ``weight_rounding`` (docs/config.md)
WEIGHT_ROUNDING: dict[str, WeightRounding] = {}


def register_weight_rounding(algorithm: WeightRounding) -> WeightRounding:
    """Add an algorithm under its name (a name registered twice is a programming error)."""
    assert algorithm.name not in WEIGHT_ROUNDING, f"weight rounding {algorithm.name!r} registered twice"
    WEIGHT_ROUNDING[algorithm.name] = algorithm
    return algorithm


register_weight_rounding(WeightRounding(
    "gptq", True, _gptq, "data-aware rounding from the layers' input statistics (Frantar et al. 2022)"))
register_weight_rounding(WeightRounding(
    "adaround", False, _adaround, "layer-wise optimised rounding (Nagel et al. 2020)"))
register_weight_rounding(WeightRounding("nearest", False, _nearest, "round to nearest"))


def weight_rounding(name: str) -> WeightRounding:
    """The registered algorithm ``name``; KeyError for an unknown one (options validate first)."""
    return WEIGHT_ROUNDING[name]
