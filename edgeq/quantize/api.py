"""``edgeq.quantize``: calibrate a float model and quantize it to integer-only arithmetic.

::

    qm = edgeq.quantize(model, calibration, spec=None, method="mse", int16=None, ...)
    qm.run(feeds)            # the integer simulator's result (float in/out by default)
    qm.save("model.edgeq"); QuantizedModel.load("model.edgeq")

The pipeline (docs/quantization.md): lower the canonical graph (:mod:`.rewrites.prepare`),
collect statistics once (cached, :mod:`edgeq.calibrate.collect`), round weights and
correct biases (:mod:`.algorithms`), choose ranges (:mod:`.pipeline.ranges`), build the
QuantizedGraph (:mod:`.pipeline.graph_builder`) and, with ``auto_mixed``, promote the
most sensitive nodes to int16 until the budget is met (:mod:`.algorithms.mixed`).
:func:`sensitivity` scores each layer alone.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeq.errors import UsageError
from edgeq.quantize.inputs import as_dataset, as_model
from edgeq.quantize.options import QuantizeOptions
from edgeq.quantize.quantized_model import QuantizedModel
from edgeq.types import QuantSpec

if TYPE_CHECKING:
    from edgeq.model import Model
    from edgeq.quantize.algorithms.mixed import Sensitivity

log = logging.getLogger(__name__)


def quantize(model: Model | str | Path, calibration: Any, *, spec: QuantSpec | None = None,
             **options: Any) -> QuantizedModel:
    """Calibrate ``model`` on ``calibration`` and quantize it under ``spec``.

    ``model``: a Model from :func:`edgeq.load` or a path. ``calibration``: an
    ``edgeq.data`` dataset or any iterable of feed dicts. ``spec``: a QuantSpec
    (default: the one an installed target offers,
    :func:`edgeq.targets.default_quant_spec`; TFLite int8 with edgeq's plugins). ``options``: see :class:`~edgeq.quantize.options.QuantizeOptions`
    (``method``, ``int16``, ``int16_ops``, ``float_nodes``, ``auto_mixed``,
    ``weight_clip``, ``bias_correction``, ``num_samples``, ``cache_dir``, ``progress`` …).
    """
    from edgeq.calibrate.collect import collect
    from edgeq.quantize.algorithms import weight_rounding
    from edgeq.quantize.rewrites.prepare import LOWERING_VERSION, Hints, lower
    from edgeq.quantize.pipeline.builder import build_from_calibration
    from edgeq.targets import default_quant_spec

    opts = QuantizeOptions.from_kwargs(options)
    spec = spec or default_quant_spec()
    t0 = time.perf_counter()
    m = as_model(model)
    if spec is not None and not isinstance(spec, QuantSpec):
        raise UsageError(f"quantize(spec=...): got {type(spec).__name__}; give a QuantSpec, e.g. "
                         "edgeq.targets.get_target(NAME).spec")
    dataset = as_dataset(calibration, opts.num_samples, opts.seed, m.graph)
    dataset.validate(m.graph)
    lowered = lower(m.graph)
    scaled: dict = {}
    version: int | str = LOWERING_VERSION
    if opts.scales_residual(wide_in_float=spec is not None and spec.wide_in_float):
        from edgeq.quantize.algorithms.residual_scaling import scale_residual_stream

        lowered, key, scaled = scale_residual_stream(lowered, dataset)
        version = f"{LOWERING_VERSION}:{key}" if key else version
    calib = collect(lowered, dataset, model_hash=m.sha256, cache_dir=opts.cache_dir,
                    use_cache=opts.use_cache, progress=opts.progress, threads=opts.threads,
                    lowering_version=version, hessians=weight_rounding(opts.weight_rounding).needs_hessians)
    t_calib = time.perf_counter() - t0
    qm = build_from_calibration(m.graph, lowered, Hints(lowered), calib, spec, opts, dataset=dataset)
    qm.report["residual_scaling"] = scaled
    qm.source = {"path": str(m.path) if getattr(m, "path", None) is not None else None,
                 "sha256": getattr(m, "sha256", None), "name": getattr(m, "name", m.graph.name)}
    qm.report["timings"] = {"calibration_s": round(t_calib, 3),
                            "total_s": round(time.perf_counter() - t0, 3),
                            "calibration_cached": calib.cached}
    return qm


def sensitivity(model: Model | str | Path, calibration: Any, *, spec: QuantSpec | None = None,
                samples: int = 8, progress: bool = True, **options: Any) -> Sensitivity:
    """Per-layer sensitivity of ``model``: quantize with ``options``, then measure the
    model-output SQNR with only one layer quantized, for every layer, on the first
    ``samples`` calibration samples (:mod:`edgeq.quantize.algorithms.mixed`). Returns a
    ``Sensitivity`` whose ``rows`` are (layer, op type, nodes, SQNR dB), worst first."""
    from edgeq.quantize.algorithms.budget import Budget
    from edgeq.quantize.algorithms.mixed import _float_refs, layer_sensitivity
    from edgeq.quantize.pipeline.fakequant import FakeQuantModel

    options.pop("auto_mixed", None)
    qm = quantize(model, calibration, spec=spec, progress=progress, **options)
    dataset = as_dataset(calibration, options.get("num_samples"), options.get("seed", 0), qm.float_graph)
    feeds = [f for _, f in zip(range(samples), dataset)]
    refs = _float_refs(qm.float_graph, feeds)
    from edgeq.provenance import calibration_record, data_record

    fq = FakeQuantModel(qm)
    budget = Budget("sqnr", 0.0)
    result = layer_sensitivity(fq, feeds, refs, budget, progress=progress)
    result.simulator_db = budget.score(refs, [qm.run(f) for f in feeds])
    result.data = data_record(dataset, len(feeds), split="calib")
    result.calibration = calibration_record(qm)
    return result
