"""``edgeq.quantize``: calibrate a float model and quantize it to integer-only arithmetic.

::

    qm = edgeq.quantize(model, calibration, spec=None, method="mse", int16=None, ...)
    qm.run(feeds)            # the integer simulator's result (float in/out by default)
    qm.save("model.edgeq"); QuantizedModel.load("model.edgeq")

The pipeline (docs/quantization.md): lower the canonical graph (:mod:`.lower`), collect
statistics once (cached, :mod:`edgeq.calibrate.collect`), correct biases
(:mod:`.bias_correction`), choose ranges (:mod:`.ranges`), build the QuantizedGraph
(:mod:`.build`) and, with ``auto_mixed``, promote the most sensitive nodes to int16
until the SQNR budget is met (:mod:`.mixed`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from edgeq.errors import UsageError
from edgeq.quantize.options import QuantizeOptions

log = logging.getLogger(__name__)


class QuantizedModel:
    """A quantized model: ``graph`` is the QuantizedGraph, ``float_graph`` the canonical
    float graph it came from, ``lowered_graph`` the float graph after lowering (same
    tensor names as ``graph``), ``tensor_map`` float tensor -> quantized tensor,
    ``report`` what was done (int16 and float nodes, options, timings)."""

    def __init__(self, graph, float_graph, lowered_graph=None, *, tensor_map=None, report=None,
                 calibration_fingerprint: str = "", spec_name: str = "") -> None:
        self.graph = graph
        self.float_graph = float_graph
        self.lowered_graph = lowered_graph
        self.tensor_map = dict(tensor_map or {})
        self.report = dict(report or {})
        self.calibration_fingerprint = calibration_fingerprint
        self.spec_name = spec_name

    # -- running ------------------------------------------------------------------
    def run(self, feeds, integer_io: bool = False, outputs=None) -> dict:
        """Run the integer simulator (the truth, not fake-quant float). Float feeds and
        outputs by default; ``integer_io=True`` feeds/returns the boundary integers."""
        from edgeq.interp.int_interp import run_quantized

        return run_quantized(self.graph, feeds, outputs=outputs, integer_io=integer_io)

    @property
    def input_names(self) -> list[str]:
        return list(self.graph.inputs)

    @property
    def output_names(self) -> list[str]:
        return list(self.graph.outputs)

    # -- persistence ----------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model (zip ``.edgeq`` or directory, no pickle; see serialize.py)."""
        from edgeq.quantize import serialize

        graphs = {"quantized": self.graph, "float": self.float_graph}
        if self.lowered_graph is not None:
            graphs["lowered"] = self.lowered_graph
        meta = {"tensor_map": self.tensor_map, "report": self.report, "spec": self.spec_name,
                "calibration_fingerprint": self.calibration_fingerprint}
        return serialize.save(path, graphs, meta)

    @classmethod
    def load(cls, path) -> "QuantizedModel":
        from edgeq.quantize import serialize

        graphs, meta = serialize.load(path)
        return cls(graphs["quantized"], graphs["float"], graphs.get("lowered"),
                   tensor_map=meta.get("tensor_map"), report=meta.get("report"),
                   calibration_fingerprint=meta.get("calibration_fingerprint", ""),
                   spec_name=meta.get("spec", ""))

    def summary(self) -> dict:
        r = self.report
        return {"spec": self.spec_name, "nodes": len(self.graph.nodes),
                "ops": self.graph.op_histogram(), "int16_nodes": len(r.get("int16_nodes", [])),
                "float_nodes": len(r.get("float_nodes", [])),
                "calibration_fingerprint": self.calibration_fingerprint}

    def __repr__(self) -> str:
        return (f"QuantizedModel({self.graph.name!r}, {len(self.graph.nodes)} nodes, "
                f"spec={self.spec_name!r})")


def _as_model(model):
    from edgeq.model import Model, load

    if isinstance(model, Model):
        return model
    if isinstance(model, (str, Path)):
        return load(model)
    if hasattr(model, "graph") and hasattr(model, "sha256"):
        return model
    raise UsageError(f"quantize() takes a Model from edgeq.load or a path to an .onnx file, "
                     f"got {type(model).__name__}")


def _as_dataset(calibration, num_samples, seed):
    from edgeq.data import Dataset, from_iterable

    if isinstance(calibration, Dataset):
        if num_samples is not None and num_samples != calibration.num_samples:
            log.info("using the dataset's own sampling (%s samples)", calibration.num_samples)
        return calibration
    return from_iterable(calibration, num_samples=num_samples, seed=seed)


def quantize(model, calibration, *, spec=None, **options) -> QuantizedModel:
    """Calibrate ``model`` on ``calibration`` and quantize it under ``spec``.

    ``model``: a Model from :func:`edgeq.load` or a path. ``calibration``: an
    ``edgeq.data`` dataset or any iterable of feed dicts. ``spec``: a QuantSpec
    (default: the one an installed target offers,
    :func:`edgeq.targets.default_quant_spec`; TFLite int8 with edgeq's plugins). ``options``: see :class:`~edgeq.quantize.options.QuantizeOptions`
    (``method``, ``int16``, ``int16_ops``, ``float_nodes``, ``auto_mixed``,
    ``weight_clip``, ``bias_correction``, ``num_samples``, ``cache_dir``, ``progress`` …).
    """
    from edgeq.calibrate.collect import collect
    from edgeq.quantize.lower import LOWERING_VERSION, Hints, lower
    from edgeq.quantize.pipeline import build_from_calibration
    from edgeq.targets import default_quant_spec

    opts = QuantizeOptions.from_kwargs(options)
    spec = spec or default_quant_spec()
    t0 = time.perf_counter()
    m = _as_model(model)
    dataset = _as_dataset(calibration, opts.num_samples, opts.seed)
    dataset.validate(m.graph)
    lowered = lower(m.graph)
    scaled, version = {}, LOWERING_VERSION
    if opts.scales_residual():
        from edgeq.quantize.residual_scaling import scale_residual_stream

        lowered, key, scaled = scale_residual_stream(lowered, dataset)
        version = f"{LOWERING_VERSION}:{key}" if key else version
    calib = collect(lowered, dataset, model_hash=m.sha256, cache_dir=opts.cache_dir,
                    use_cache=opts.use_cache, progress=opts.progress, threads=opts.threads,
                    lowering_version=version, hessians=opts.weight_rounding == "gptq")
    t_calib = time.perf_counter() - t0
    qm = build_from_calibration(m.graph, lowered, Hints(lowered), calib, spec, opts, dataset=dataset)
    qm.report["residual_scaling"] = scaled
    qm.report["timings"] = {"calibration_s": round(t_calib, 3),
                            "total_s": round(time.perf_counter() - t0, 3),
                            "calibration_cached": calib.cached}
    return qm
