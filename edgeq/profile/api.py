"""``edgeq.profile``: latency and accuracy of a built artifact, reports and gates.

::

    rep = edgeq.profile("build/tflite", runner="host", data="zoo:mobilenet-v2",
                        gates=["top1_agreement>=0.9"], junit="gates.xml")

Steps:

1. load the artifact (``manifest.json``) and check every file's sha256;
2. resolve its target profile (the one it was built with, see :func:`_resolve`) and
   the runner through :func:`edgeq.targets.get_runner` (runner options such as
   ``threads``, ``delegate``, ``device``, ``runner_bin`` override the profile's);
3. evaluation feeds: ``data`` as :func:`edgeq.data.resolve.resolve` takes it (split
   ``eval`` for ``zoo:NAME``); without ``data``, the zoo's evaluation split when the
   artifact was built from a zoo model, else one seeded random sample so that latency
   is still measured (accuracy is then "not measured" and its gates fail);
4. the FP32 reference: onnxruntime on the source ONNX model recorded in the manifest
   (path and sha256; a changed or missing file is an error naming it) or on
   ``reference_model``; the runner compares its outputs with the core metrics
   (:func:`edgeq.profile.accuracy.attach_accuracy`); the per-layer SQNR of the build
   report is attached to the accuracy;
5. optionally a ``baseline`` (``"fp32"``: the source model emitted as an FP32 artifact of
   the same target, profiled the same way; or the directory of another artifact) for
   the speed-up and size comparison;
6. gates are evaluated, the reports written (``report.json``/``.md``/``.html`` into
   ``report_dir``, default the artifact directory), JUnit XML when asked, tables
   printed to ``console`` if given, and finally :class:`~edgeq.errors.GateFailure`
   (exit 3) raised naming the failed gates, carrying ``.report`` and ``.paths``.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from edgeq.errors import GateFailure, UsageError
from edgeq.contracts import Artifact, ProfileReport

if TYPE_CHECKING:
    from edgeq.profile.result import ProfileResult

log = logging.getLogger(__name__)

#: evaluation samples when the zoo's split is used without an explicit count
DEFAULT_ZOO_EVAL_SAMPLES = 100


def _resolve(artifact: Artifact):
    """The ResolvedTarget the artifact was built with, else its plugin target's defaults."""
    from edgeq.targets import TargetUnavailableError, get_target

    m = artifact.manifest
    build = m.get("build") or {}
    source, profile = build.get("profile_source"), m.get("profile")
    candidates = []
    if source and source not in ("builtin", "plugin", "options"):
        candidates.append(source)  # the profile YAML it was built from
    if profile:
        candidates.append(profile)
    for cand in candidates:
        try:
            resolved = get_target(cand)
        except TargetUnavailableError as exc:
            log.info("profile %r of the artifact not available (%s); using target defaults", cand, exc)
            continue
        if resolved.target.name == artifact.target:
            return resolved
    return get_target(artifact.target)


def _input_graph(manifest: Mapping[str, Any]):
    """A graph holding only the source model's inputs (names, shapes, dtypes) and its
    provenance metadata: enough to choose and validate evaluation data."""
    from edgeq.ir.graph import Graph, Tensor

    src = manifest.get("source") or {}
    specs = src.get("inputs") or [{"name": s["name"], "shape": s.get("source_shape") or s["shape"],
                                   "dtype": "float32" if s.get("quant") else s["dtype"]}
                                  for s in manifest.get("inputs", [])]
    g = Graph(name=src.get("name") or "artifact")
    for s in specs:
        g.tensors[s["name"]] = Tensor(s["name"], np.dtype(s["dtype"]), tuple(s["shape"]))
        g.inputs.append(s["name"])
    if src.get("zoo"):
        g.metadata["edgeq.zoo.name"] = src["zoo"]
    if src.get("preprocessing"):
        g.metadata["edgeq.preprocessing"] = json.dumps(src["preprocessing"])
    return g


def _synthetic_feed(graph, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feed = {}
    for name in graph.inputs:
        t = graph.tensors[name]
        if t.dtype.kind == "f":
            feed[name] = rng.standard_normal(t.shape).astype(t.dtype)
        else:
            feed[name] = np.zeros(t.shape, t.dtype)
    return feed


def _reference_path(manifest: Mapping[str, Any], reference_model) -> Path:
    from edgeq.model import file_sha256

    src = manifest.get("source") or {}
    if reference_model is not None:
        path = Path(reference_model).expanduser()
        if not path.is_file():
            raise UsageError(f"{path}: reference model not found")
        return path
    if not src.get("model"):
        raise UsageError("the artifact's manifest names no source model; pass the FP32 ONNX "
                         "model with --reference MODEL (reference_model= in Python)")
    path = Path(src["model"])
    if not path.is_file():
        raise UsageError(f"{path}: the FP32 model this artifact was built from is gone; pass it "
                         "with --reference MODEL (reference_model= in Python)")
    if src.get("sha256") and file_sha256(path) != src["sha256"]:
        raise UsageError(f"{path}: changed since the artifact was built (sha256 differs); rebuild "
                         "the artifact or pass the original model with --reference MODEL")
    return path


def fp32_references(model_path: Path, feeds: Sequence[Mapping[str, np.ndarray]], *,
                    show: bool = False) -> list[dict[str, np.ndarray]]:
    """Outputs of the FP32 ONNX model in onnxruntime for every feed."""
    import onnxruntime as ort

    from edgeq.profile.terminal import progress

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise UsageError(f"{model_path}: onnxruntime cannot load the FP32 reference ({exc})") from exc
    names = [o.name for o in sess.get_outputs()]
    wanted = [i.name for i in sess.get_inputs()]
    out = []
    with progress("fp32 reference", len(feeds), enabled=show) as advance:
        for feed in feeds:
            missing = [n for n in wanted if n not in feed]
            if missing:
                raise UsageError(f"evaluation data lacks input(s) {missing} of {model_path}")
            out.append(dict(zip(names, sess.run(names, {n: feed[n] for n in wanted}))))
            advance(1)
    return out


def _eval_feeds(artifact: Artifact, graph, data, *, num_samples, seed, data_kind, data_options):
    from edgeq.data import resolve as datasource

    if data is None:
        zoo_name = datasource.zoo_name_of(graph)
        if zoo_name is None:
            return None, None
        data = f"zoo:{zoo_name}:eval"
        num_samples = num_samples or DEFAULT_ZOO_EVAL_SAMPLES
        # announced, not silent: the artifact was built from a zoo model and no --data was given
        log.warning("no evaluation data given: using %d samples of the zoo's eval split of %s "
                    "(--data zoo:%s:eval says so explicitly)", num_samples, zoo_name, zoo_name)
    ds = datasource.resolve(data, graph, split="eval", kind=data_kind, options=data_options,
                            num_samples=num_samples, seed=seed, what="evaluation data")
    ds.validate(graph)
    return list(ds), datasource.describe(ds)


def _attach_layers(report: ProfileReport, artifact: Artifact) -> None:
    from edgeq.staging import BUILD_REPORT
    from edgeq.profile.report import sections

    path = artifact.path / (artifact.manifest.get("build") or {}).get("report", BUILD_REPORT)
    try:
        build = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    layers = ((build.get("quantization") or {}).get("per_layer_sqnr")) or []
    rows = [{"name": r["name"], "sqnr_db": r.get("sqnr_db"), "op_type": r.get("op_type"),
             "dtype": r.get("dtype"), "samples": "calibration"} for r in layers]
    if rows:
        for sec in sections(report):
            sec.accuracy.setdefault("per_layer", rows)


def _baseline(baseline, artifact, resolved, runner, feeds, runs, warmup, show) -> tuple[str, dict]:
    """Profile the baseline; returns its label and attach_baseline's mapping."""
    from edgeq.profile.terminal import progress
    from edgeq.contracts import BuildOptions

    tmp = None
    try:
        if str(baseline) == "fp32":
            import edgeq

            src = artifact.manifest.get("source") or {}
            model = edgeq.load(_reference_path(artifact.manifest, None),
                               input_shapes=src.get("input_shapes") or None)
            tmp = tempfile.TemporaryDirectory(prefix="edgeq-baseline-")
            base = resolved.target.emit(model, Path(tmp.name), BuildOptions(
                precision="fp32", profile=f"{resolved.name}-fp32", extra={"profile": f"{resolved.name}-fp32"}))
            label = "fp32"
        else:
            base = Artifact.load(baseline)
            base.verify()
            label = (base.manifest.get("options") or {}).get("precision") or base.path.name
        from edgeq.profile.paired import interleave

        with progress(f"baseline ({label}) and candidate, interleaved: {runs} runs each", None,
                      enabled=show):
            timing = interleave(runner, artifact, base, feeds[0], runs=runs, warmup=warmup)
        model_file = base.manifest.get("model_file")
        size = (base.file(model_file).stat().st_size if model_file and base.file(model_file).is_file()
                else sum(f.get("bytes", 0) for f in base.manifest.get("files", {}).values()) or None)
        return label, {"latency": timing.baseline, "size_bytes": size,
                       "peak_memory_mb": timing.baseline_peak_memory_mb,
                       "candidate_latency": timing.candidate,
                       "candidate_peak_memory_mb": timing.candidate_peak_memory_mb,
                       "paired": timing.to_dict()}
    finally:
        if tmp is not None:
            tmp.cleanup()


def profile(artifact_dir: str | Path, *, runner: str = "host", data: Any = None, runs: int = 50, warmup: int = 5,
            gates: Iterable[Any] = (), junit: str | Path | None = None, device: str | None = None,
            reference_model: str | Path | None = None, report_dir: str | Path | None = None,
            num_samples: int | None = None, seed: int = 0, data_kind: str | None = None,
            data_options: Mapping[str, Any] | None = None, baseline: str | Path | None = None,
            report_formats: Sequence[str] = ("json", "md", "html"), console: Any = None,
            progress: bool | None = None, **runner_options: Any) -> ProfileResult:
    """Profile the artifact in ``artifact_dir`` (see the module doc); returns a
    :class:`~edgeq.profile.result.ProfileResult`: the runner's report with ``gates``,
    ``paths``, ``passed``, ``to_json()``, ``to_html(path)``.

    ``runner_options`` go to the runner factory (``threads``, ``delegate``,
    ``runner_bin``, ``op_profiling``, ``timeout_s`` …). Raises GateFailure after the
    reports are written when a gate fails.
    """
    from edgeq.profile.gates import evaluate, parse_gates, raise_for_failures, write_junit
    from edgeq.profile.report import attach_baseline, report_to_dict, sections, write_reports
    from edgeq.profile.result import ProfileResult
    from edgeq.profile.terminal import progress as progress_bar
    from edgeq.targets import get_runner

    import os

    from edgeq.errors import check_argument

    check_argument("profile", "artifact_dir", artifact_dir, (str, os.PathLike),
                   "the directory of a built artifact (OUT/<target> of edgeq build)")
    check_argument("profile", "runner", runner, str, "a runner name such as 'host' or 'adb'")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    parsed = parse_gates(gates)  # a malformed gate fails before anything runs
    artifact = Artifact.load(artifact_dir)
    artifact.verify()
    resolved = _resolve(artifact)
    run = get_runner(runner, resolved, device=device, **runner_options)
    graph = _input_graph(artifact.manifest)
    feeds, data_info = _eval_feeds(artifact, graph, data, num_samples=num_samples, seed=seed,
                                   data_kind=data_kind, data_options=data_options)
    references = None
    if feeds is None:
        log.info("no evaluation data: latency on one random input, accuracy not measured")
        feeds, data_info = [_synthetic_feed(graph, seed)], {"kind": "random", "samples": 1}
    else:
        references = fp32_references(_reference_path(artifact.manifest, reference_model), feeds,
                                     show=show)
    with progress_bar(f"profiling on {runner}: {len(feeds)} sample(s), {runs} runs", None,
                      enabled=show):
        report = run.profile(artifact, feeds, runs=runs, warmup=warmup, references=references)
    report.artifact.setdefault("profile", resolved.name)
    if (artifact.manifest.get("source") or {}).get("model"):
        report.artifact.setdefault("source_model", artifact.manifest["source"]["model"])
    build_info = artifact.manifest.get("build") or {}
    calibration = {**(build_info.get("calibration") or {}),
                   "fingerprint": artifact.manifest.get("calibration_fingerprint")}
    compares = (f"the {artifact.target} artifact run by the '{runner}' runner vs the FP32 ONNX model "
                "in onnxruntime" if references is not None else "nothing (no evaluation data: latency only)")
    for sec in sections(report):
        sec.extra.setdefault("evaluation_data", data_info)
        sec.extra.setdefault("compares", compares)
        sec.extra.setdefault("calibration", calibration)
    if references is not None:
        _attach_layers(report, artifact)
    if baseline is not None:
        label, base = _baseline(baseline, artifact, resolved, run, feeds, runs, warmup, show)
        attach_baseline(report, base, label=label, candidate_label=(
            artifact.manifest.get("options") or {}).get("precision", "int8"))
    results = evaluate(report, parsed)
    data_dict = report_to_dict(report, gates=results)
    paths = write_reports(data_dict, report_dir or artifact.path, formats=report_formats)
    if junit is not None:
        paths["junit"] = write_junit(results, junit)
    if console is not None:
        from edgeq.profile.terminal import print_report

        print_report(data_dict, console)
    result = ProfileResult.from_report(report, results, paths)
    try:
        raise_for_failures(results)
    except GateFailure as exc:
        exc.report, exc.paths = result, paths
        raise
    return result
