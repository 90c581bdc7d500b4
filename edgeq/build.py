"""``edgeq.build``: from an FP32 ONNX model to deployable artifacts for one or more targets.

::

    arts = edgeq.build("model.onnx", targets=["tflite"], calibration="data/calib",
                       output_dir="build", method="mse")
    arts["tflite"].path          # build/tflite: model.tflite, manifest.json, build_report.json

Steps (timed; the timings go into ``build_report.json``):

1. resolve every target (:func:`edgeq.targets.get_target`, options applied) and check
   its SDK is installed;
2. load the model (:func:`edgeq.load`) with ``input_shapes``;
3. quantize **once per distinct (QuantSpec, quantize options)** among the int8 targets:
   targets that agree share one QuantizedModel; the calibration statistics are
   collected once and reused from the quantizer's cache by every later quantization
   (when the caller disabled the cache, a build-private cache directory is used so the
   data still passes through the model once). fp32/fp16 targets need no calibration;
4. per target: ``check`` (node placement; an unsupported node stops the build, naming
   every such node), ``emit`` into a staging directory, write ``build_report.json``,
   complete ``manifest.json`` (source model path + sha256 + input shapes, zoo model,
   calibration, edgeq/tool versions, files with sha256);
5. commit: rename every staging directory into ``OUT/<target name>/`` (see
   :mod:`edgeq.staging`); any failure before leaves nothing behind and an earlier
   build untouched.

The module is callable (``edgeq.build(...)`` works even after ``import edgeq.build``).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from edgeq.errors import UnsupportedOpError, UsageError

log = logging.getLogger(__name__)

#: calibration samples drawn when build() makes the data set itself (as edgeq.yaml's default)
DEFAULT_CALIBRATION_SAMPLES = 128
#: calibration samples on which the per-layer SQNR of the build report is measured
DEFAULT_LAYER_SQNR_SAMPLES = 2


@dataclass
class _Job:
    """One target of a build."""

    resolved: Any  # edgeq.targets.ResolvedTarget
    options: Any  # edgeq.contracts.BuildOptions
    quantize_options: dict[str, Any]
    spec: Any = None  # QuantSpec for int8, None for float builds
    group: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.resolved.name


@dataclass
class _Group:
    """Targets quantized by one call of edgeq.quantize."""

    spec: Any
    options: dict[str, Any]
    targets: list[str] = field(default_factory=list)
    qmodel: Any = None
    seconds: float = 0.0
    layers: list[dict[str, Any]] | None = None
    layer_seconds: float = 0.0
    #: "given" for a QuantizedModel passed to build(); "requantized" for a target it did
    #: not fit (with ``reasons``); None for a build from the float model
    origin: str | None = None
    reasons: dict[str, list[str]] = field(default_factory=dict)


def _resolve_targets(targets, target_options: Mapping[str, Any] | None) -> list[_Job]:
    from edgeq.targets import ResolvedTarget, get_target

    if isinstance(targets, (str, Path, ResolvedTarget)) or (
            isinstance(targets, tuple) and len(targets) == 2 and isinstance(targets[1], Mapping)):
        targets = [targets]
    jobs: list[_Job] = []
    for entry in targets or ():
        overrides = dict(target_options or {})
        if isinstance(entry, ResolvedTarget):
            resolved = entry.with_options(overrides)
        else:
            if isinstance(entry, tuple):
                entry, extra = entry
                overrides.update(extra)
            elif hasattr(entry, "option_overrides"):  # an edgeq.yaml targets[] entry
                overrides.update(entry.option_overrides())
                entry = entry.name
            resolved = get_target(entry, overrides)
        resolved.require_sdk()
        opts = resolved.build_options()
        jobs.append(_Job(resolved, opts, {}))
    if not jobs:
        raise UsageError("no target to build; give at least one (--target NAME, 'edgeq targets' "
                         "lists them)")
    names = [j.name for j in jobs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"target(s) {', '.join(dup)} given more than once; each target builds "
                         "into OUT/<name>/, so give each name once (copy a profile YAML under "
                         "another name for a variant)")
    return jobs


MODEL_KINDS = ("an ONNX path, 'zoo:NAME', a Model from edgeq.load, a QuantizedModel from "
               "edgeq.quantize, or a saved .edgeq path")


def _load_model(model, input_shapes):
    from edgeq.model import Model, load

    if isinstance(model, Model):
        if input_shapes:
            raise UsageError("input_shapes apply when loading; pass them to edgeq.load instead")
        return model
    if isinstance(model, str) and model.startswith("zoo:"):
        from edgeq import zoo

        model = zoo.get(model[len("zoo:"):])
    if not isinstance(model, (str, Path)):
        raise UsageError(f"build(model=...): got {type(model).__name__}; give {MODEL_KINDS}")
    return load(model, input_shapes=input_shapes or None)


def _plan_given(jobs: list[_Job], qmodel, calibration, base_options, per_target) -> list[_Group]:
    """Groups for a QuantizedModel given to build(): the targets it fits share it as it
    is; the others are quantized again from ``calibration`` (an error without it)."""
    from edgeq.prebuilt import requantize_error, unmet_constraints

    given = _Group(qmodel.spec_name, {}, origin="given", qmodel=qmodel)
    unmet: dict[str, list[str]] = {}
    rest: list[_Job] = []
    for job in jobs:
        if job.options.precision != "int8":
            continue
        reasons = unmet_constraints(qmodel, job.resolved)
        if reasons:
            unmet[job.name] = reasons
            rest.append(job)
        else:
            job.spec, job.group = job.resolved.spec, 0
            given.targets.append(job.name)
    groups = [given]
    if unmet:
        if calibration is None:
            raise requantize_error(unmet, qmodel.spec_name)
        options = {k: v for k, v in qmodel.report.get("options", {}).items() if k != "num_samples"}
        options.update(base_options)
        log.warning("the quantized model does not fit %s; quantizing again for them from the "
                    "same calibration: %s", ", ".join(unmet),
                    "; ".join(f"{t}: {', '.join(r)}" for t, r in unmet.items()))
        more = _plan_groups(rest, options, per_target)
        for job in rest:
            assert job.group is not None  # set by _plan_groups for every int8 job
            job.group += 1
        for g in more:
            g.origin = "requantized"
            g.reasons = {t: unmet[t] for t in g.targets}
        groups += more
    return groups


def _plan_groups(jobs: list[_Job], base_options: dict[str, Any],
                 per_target: Mapping[str, Mapping[str, Any]] | None) -> list[_Group]:
    groups: list[_Group] = []
    for job in jobs:
        if job.options.precision != "int8":
            continue
        job.spec = job.resolved.spec
        job.quantize_options = {**base_options, **dict((per_target or {}).get(job.name, {}))}
        for i, g in enumerate(groups):  # QuantSpec holds dicts: compare, don't hash
            if g.spec == job.spec and g.options == job.quantize_options:
                break
        else:
            groups.append(_Group(job.spec, job.quantize_options))
            i = len(groups) - 1
        job.group = i
        groups[i].targets.append(job.name)
    return groups


def _quantize(model, dataset, groups: list[_Group], progress: bool, layer_samples: int) -> None:
    from edgeq.quantize.api import quantize

    private_cache = None
    if len(groups) > 1 and any(g.options.get("use_cache") is False for g in groups):
        private_cache = tempfile.TemporaryDirectory(prefix="edgeq-calib-")
    try:
        for g in groups:
            opts = dict(g.options)
            if private_cache is not None:
                opts.update(use_cache=True, cache_dir=private_cache.name)
            opts.setdefault("progress", progress)
            t0 = time.perf_counter()
            g.qmodel = quantize(model, dataset, spec=g.spec, **opts)
            g.seconds = time.perf_counter() - t0
            if layer_samples > 0:
                t0 = time.perf_counter()
                g.layers = _layer_sqnr(g.qmodel, dataset, layer_samples)
                g.layer_seconds = time.perf_counter() - t0
    finally:
        if private_cache is not None:
            private_cache.cleanup()


def _layer_sqnr(qmodel, dataset, samples: int) -> list[dict[str, Any]]:
    """SQNR of every quantized activation against the float graph on a few samples."""
    from edgeq.quantize.compare import compare

    feeds = [dataset[i] for i in range(min(samples, len(dataset)))]
    try:
        rep = compare(None, qmodel, feeds, per_layer=True, layer_samples=len(feeds))
    except Exception as exc:  # a diagnostic: its failure must not fail the build
        log.warning("per-layer SQNR not measured: %s: %s", type(exc).__name__, exc)
        return [{"name": "(not measured)", "sqnr_db": None, "error": f"{type(exc).__name__}: {exc}"}]
    return [{"name": node, "tensor": tensor, "op_type": op, "dtype": dtype, "sqnr_db": s}
            for tensor, node, op, dtype, s in rep.layers]


def _placement(job: _Job, graph) -> dict[str, Any]:
    places = job.resolved.target.check(graph)
    bad = [p for p in places if p.where == "unsupported"]
    if bad:
        listing = "; ".join(f"{p.node} ({p.op_type}): {p.reason}" for p in bad[:20])
        raise UnsupportedOpError(
            f"target {job.name!r} cannot run {len(bad)} node(s) of the quantized model: {listing}"
            + (" …" if len(bad) > 20 else "") + ". Keep them in float where the target allows "
            "it (profile option float_fallback: true), or change the model",
            op_type=bad[0].op_type, nodes=[p.node for p in bad])
    counts: dict[str, int] = {}
    for p in places:
        counts[p.where] = counts.get(p.where, 0) + 1
    return {"counts": counts,
            "float_nodes": [{"node": p.node, "op_type": p.op_type, "reason": p.reason}
                            for p in places if p.where == "float"],
            "nodes": [{"node": p.node, "op_type": p.op_type, "where": p.where, "reason": p.reason}
                      for p in places]}


def build(model: Any, *, targets: Iterable[Any] | str, calibration: Any = None,
          output_dir: str | Path = "build", input_shapes: Mapping[str, Any] | None = None,
          target_options: Mapping[str, Any] | None = None,
          per_target: Mapping[str, Mapping[str, Any]] | None = None,
          calibration_kind: str | None = None, calibration_options: Mapping[str, Any] | None = None,
          layer_sqnr_samples: int = DEFAULT_LAYER_SQNR_SAMPLES, progress: bool | None = None,
          **quantize_options) -> dict[str, Any]:
    """Build ``model`` for every target; returns ``{target name: Artifact}``.

    ``model``: an ONNX path, ``"zoo:NAME"``, a Model, a QuantizedModel from
    :func:`edgeq.quantize` or the path of one saved as ``.edgeq``. A quantized model is
    emitted as it is for every target whose constraints it meets; for the others
    (:func:`edgeq.prebuilt.unmet_constraints` says why) it is quantized again from
    ``calibration`` — its statistics come from the cache — with a warning, and the
    build report records ``origin: requantized`` and the reasons; without
    ``calibration`` that is a UsageError naming the targets. ``targets``: names or profile
    paths (or ``(name, {option: value})`` pairs, ResolvedTargets, edgeq.yaml entries).
    ``calibration``: anything :func:`edgeq.data.resolve.resolve` takes — a directory
    (kind detected from content, or ``calibration_kind``; options from the model plus
    ``calibration_options``), ``"zoo:NAME"``, a dataset or an iterable of feed dicts;
    ``None`` uses the zoo's calibration split for a zoo model and is an error otherwise
    (unless every target is fp32/fp16). ``target_options``: profile options for every
    target (``io_dtype``, ``precision``, ``int16``, ``float_fallback``, ``threads`` …);
    ``per_target``: quantize options per target name. ``quantize_options``: keyword
    options of :func:`edgeq.quantize` (``method``, ``int16``, ``auto_mixed`` …;
    ``num_samples`` (default: all, at most 128) and ``seed`` select the calibration
    samples).
    ``layer_sqnr_samples``: calibration samples for the per-layer SQNR in the build
    report (0 skips it). Raises an EdgeqError; nothing is written then.
    """
    import os

    from edgeq.errors import check_argument
    from edgeq.staging import Staging, output_error

    check_argument("build", "output_dir", output_dir, (str, os.PathLike), "a directory path")
    check_argument("build", "targets", targets, (str, os.PathLike, tuple, list),
                   "a target name or profile path, or a list of them ('edgeq targets' lists them)")
    t_start = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else bool(progress)
    jobs = _resolve_targets(targets, target_options)
    staging = Staging(output_dir)
    staging.prepare()  # an unwritable output fails before minutes of calibration
    try:
        staging.claim([j.name for j in jobs])
        from edgeq.prebuilt import as_quantized, source_model

        t0 = time.perf_counter()
        given = as_quantized(model)
        if given is not None and input_shapes:
            raise UsageError("input_shapes apply when loading an ONNX model; a quantized model "
                             "has its shapes already")
        m = source_model(given) if given is not None else _load_model(model, input_shapes)
        load_s = time.perf_counter() - t0
        num_samples = quantize_options.pop("num_samples", None)
        groups = (_plan_given(jobs, given, calibration, quantize_options, per_target) if given is not None
                  else _plan_groups(jobs, quantize_options, per_target))
        calib_info = None
        todo = [g for g in groups if g.qmodel is None]
        if todo:
            dataset = _calibration_data(m, calibration, calibration_kind, calibration_options,
                                        zoo_ref=isinstance(model, str) and model.startswith("zoo:"),
                                        num_samples=num_samples, seed=quantize_options.get("seed", 0))
            _quantize(m, dataset, todo, show, int(layer_sqnr_samples))
            timings = todo[0].qmodel.report.get("timings", {})
            calib_info = {**_describe(dataset), "cached": bool(timings.get("calibration_cached")),
                          "seconds": timings.get("calibration_s")}
        elif given is not None:
            calib_info = {"fingerprint": given.calibration_fingerprint,
                          "samples": given.report.get("calibration_samples"), "from": "quantized model"}
        artifacts = _emit_all(jobs, groups, m, staging, calib_info, load_s, t_start, show)
        final = staging.commit()
    except BaseException as exc:
        staging.discard()
        if isinstance(exc, OSError):
            raise output_error(staging.output_dir, exc, "write the build") from exc
        raise
    for name, art in artifacts.items():
        art.path = final[name]
    log.info("built %s in %.1f s", ", ".join(artifacts), time.perf_counter() - t_start)
    return artifacts


def _describe(dataset) -> dict[str, Any]:
    from edgeq.data.resolve import describe

    return describe(dataset)


def _calibration_data(m, calibration, kind, options, *, zoo_ref: bool, num_samples, seed):
    """The calibration dataset (validated against the model); see build()'s docstring.

    Without ``calibration``, only a model named as ``zoo:NAME`` calibrates on the zoo's
    data, and says so; a model *file* that is a copy of a zoo model needs the data named
    (``--calib zoo:NAME``), so the zoo's data never stands in for the user's silently.
    """
    from edgeq.data import resolve as datasource

    if calibration is None:
        zoo_name = datasource.zoo_name_of(m.graph)
        if zoo_name is None:
            raise UsageError(f"{m.path or m.name}: int8 targets need calibration data "
                             "(--calib DIR or zoo:NAME; calibration= in Python)")
        if not zoo_ref:
            raise UsageError(f"{m.path or m.name}: int8 targets need calibration data. This file is "
                             f"the zoo's {zoo_name} model: give --calib zoo:{zoo_name} to calibrate on "
                             "the zoo's data, or --calib DIR for your own (calibration= in Python)")
        log.warning("calibrating on the zoo's calibration split of %s (no calibration data given)",
                    zoo_name)
        calibration = f"zoo:{zoo_name}:calib"

    def make(n):
        return datasource.resolve(calibration, m.graph, split="calib", kind=kind, options=options,
                                  num_samples=n, seed=seed, what="calibration data")

    dataset = make(num_samples)
    if num_samples is None and len(dataset) > DEFAULT_CALIBRATION_SAMPLES and \
            getattr(dataset, "num_samples", None) is None:
        dataset = make(DEFAULT_CALIBRATION_SAMPLES)
    dataset.validate(m.graph)
    return dataset


def _emit_all(jobs, groups, m, staging, calib_info, load_s, t_start, show) -> dict[str, Any]:
    """check + emit + reports of every target into its staging directory."""
    from edgeq.staging import finish, source_info
    from edgeq.profile.terminal import progress as progress_bar

    source = source_info(m)
    artifacts: dict[str, Any] = {}
    with progress_bar("building", len(jobs), enabled=show) as advance:
        for job in jobs:
            group = groups[job.group] if job.group is not None else None
            job.timings["load_s"] = round(load_s, 3)
            if group is not None:
                job.timings["quantize_s"] = round(group.seconds, 3)
                job.timings["calibration_s"] = group.qmodel.report.get("timings", {}).get("calibration_s")
                if group.layers is not None:
                    job.timings["layer_sqnr_s"] = round(group.layer_seconds, 3)
            t = time.perf_counter()
            if group is not None:
                placement = _placement(job, group.qmodel.graph)
            else:
                placement = {"counts": {"float": len(m.graph.nodes)}, "float_nodes": [],
                             "nodes": [], "precision": job.options.precision}
            job.timings["check_s"] = round(time.perf_counter() - t, 3)
            out = staging.new(job.name)
            t = time.perf_counter()
            art = job.resolved.target.emit(group.qmodel if group else m, out, job.options)
            job.timings["emit_s"] = round(time.perf_counter() - t, 3)
            job.timings["elapsed_s"] = round(time.perf_counter() - t_start, 3)
            finish(job, art, group, placement, calib_info, source)
            artifacts[job.name] = art
            advance(1)
    return artifacts


class _CallableModule(types.ModuleType):
    def __call__(self, model, **kwargs):
        return build(model, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
