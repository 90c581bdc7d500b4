"""The Core ML target ("ane"): QuantSpec, placement check, and artifact emission.

``CoreMLTarget.emit(qmodel, out_dir, options)`` writes ``model.mlpackage`` and
``manifest.json`` into ``out_dir``; :func:`build_artifact` wraps it so that a failed
build leaves nothing behind (emit into a sibling temporary directory, rename on success).

Options from ``BuildOptions``: ``precision`` (int8 = W8A8 | fp16 | fp32) and, from
``extra`` (the profile's ``options.extra``): ``minimum_deployment_target`` (iOS15-18,
macOS12-15; default iOS17 for int8, iOS16 otherwise), ``weights`` (int8 | fp16 | fp32;
int8 with a float precision is weight-only int8), ``weight_op`` (affine | blockwise;
blockwise, iOS18's ``constexpr_blockwise_shift_scale``, is the default at iOS18),
``author``, ``version``, ``preprocessing`` (dict, into the metadata), ``compute_units``
(for the mac runner), ``passes`` (lean | default: coremltools' converter pipeline, see
emit/export.py ``LEAN_PASSES``), ``compact`` (bool, emit/compact.py).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from edgeq.sdk import (MANIFEST_NAME, Artifact, ArtifactError, BuildOptions, NodePlacement,
                       QuantSpec, Target, UsageError, edgeq_version, emit_atomically)
from edgeq_coreml.spec import ANE_W8A8, ANE_W8A8_STRICT

logger = logging.getLogger(__name__)

MODEL_DIR = "model.mlpackage"
WEIGHTS = ("int8", "fp16", "fp32")


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("coremltools", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - coremltools is required to emit
            pass
    return out


def resolve_options(options: BuildOptions) -> dict:
    """The emitter's settings from the build options (validated; see the module docstring)."""
    extra = options.extra or {}
    precision = options.precision
    if precision not in ("int8", "fp16", "fp32"):
        raise UsageError(f"precision '{precision}' is not one of int8, fp16, fp32")
    if options.io_dtype != "float32":
        raise UsageError(f"io_dtype '{options.io_dtype}': the Core ML target takes float32 inputs "
                         "(int8 activations live inside the program); set io_dtype: float32")
    weights = str(extra.get("weights", "int8" if precision == "int8" else "fp16"))
    if weights not in WEIGHTS:
        raise UsageError(f"weights '{weights}' is not one of {', '.join(WEIGHTS)} (target profile "
                         "options.extra.weights)")
    if precision == "int8" and weights != "int8":
        raise UsageError("precision int8 (W8A8) has int8 weights; drop options.extra.weights or "
                         "choose precision fp16 for float weights")
    target = str(extra.get("minimum_deployment_target", "iOS17" if precision == "int8" else "iOS16"))
    default_op = "blockwise" if target in ("iOS18", "macOS15") else "affine"
    weight_op = str(extra.get("weight_op", default_op))
    if weight_op not in ("affine", "blockwise"):
        raise UsageError(f"weight_op '{weight_op}' is not affine or blockwise")
    inputs = str(extra.get("inputs", "tensor"))
    if inputs not in ("tensor", "image"):
        raise UsageError(f"inputs '{inputs}' is not tensor or image (target profile options.extra.inputs)")
    return {"precision": precision, "weights": weights, "deployment_target": target,
            "weight_op": weight_op, "inputs": inputs,
            "compute_units": str(extra.get("compute_units", "CPU_AND_NE"))}


def _float_fallback(options: BuildOptions | dict | None) -> bool:
    extra = options if isinstance(options, dict) else (options.extra if options else {})
    return bool((extra or {}).get("float_fallback", False))


class CoreMLTarget(Target):
    """Core ML ML Program (``.mlpackage``) for the Apple Neural Engine."""

    name = "ane"
    artifact_kind = ".mlpackage"
    sdk_packages = ("coremltools",)
    default_runner = "host"
    # the program computes in fp16 between quantize/dequantize (docs/targets/coreml.md):
    # int8 outputs within one step of the simulator for linear ops, up to 4 where the
    # simulator's fixed-point tanh / sigmoid / softmax meets Core ML's fp16 functions
    # (measured on the conformance cases: tanh 3, softmax 4); int16 tensors are fp16 in
    # the program, whose 11-bit significand rounds a value near int16 full scale by up
    # to 16 steps, and a chain of fp16 ops by twice that (measured: up to 24, softmax 16x8)
    simulator_tolerance_lsb = {"int8": 4, "int16": 32}

    @property
    def spec(self) -> QuantSpec:
        return ANE_W8A8

    def spec_for(self, options: BuildOptions | dict | None) -> QuantSpec:
        """Without ``float_fallback`` every node must be quantized (``ANE_W8A8_STRICT``)."""
        return ANE_W8A8 if _float_fallback(options) else ANE_W8A8_STRICT

    def read_artifact(self, artifact: Artifact) -> dict:
        """The base summary (manifest, sha256) plus the ``.mlpackage`` read in Python
        before coremltools' native readers see it (verify/package.py): ``ops`` of the ML
        Program, its ``metadata`` and ``model`` (the spec's inputs/outputs, version,
        weight blob count). The manifest's I/O must name the model's features."""
        from edgeq_coreml.verify.package import read_package

        summary = super().read_artifact(artifact)
        name = artifact.manifest.get("model_file", MODEL_DIR)
        manifest = artifact.path / MANIFEST_NAME
        if not isinstance(name, str) or not any(f.startswith(f"{name}/") for f in summary["files"]) or \
                "/" in name or name in ("", ".", ".."):
            raise ArtifactError(f"{manifest}: model_file {str(name)[:40]!r} is not a package among the "
                                "artifact's listed files; rebuild the artifact")
        model = read_package(artifact.file(name))
        for kind in ("inputs", "outputs"):
            features = {f["name"]: f for f in model[kind]}
            for spec in summary[kind]:
                key = spec.get("coreml_name", spec["name"])
                f = features.get(key)
                if spec["dtype"] not in ("float32", "int32", "image"):
                    raise ArtifactError(f"{manifest}: {kind[:-1]} '{key}' has dtype {spec['dtype'][:20]!r}, "
                                        "not float32, int32 or image; rebuild the artifact")
                if f is None or (f["type"] == "multiArrayType" and f["shape"] and f["shape"] != spec["shape"]):
                    found = f"shape {f['shape']}" if f else f"not one of {sorted(features)}"
                    raise ArtifactError(f"{manifest}: {kind[:-1]} '{key}' (shape {spec['shape']}) does not "
                                        f"match the model's ({found}, {name}); rebuild the artifact")
        summary.update(ops=model.pop("ops"), metadata=model.pop("metadata"), model={"file": name, **model})
        summary["checked"].append("mlpackage")
        return summary

    def check(self, graph) -> list[NodePlacement]:
        """Every node the emitter can lower runs (int8 where its output is int8, else fp16);
        one it cannot is ``unsupported`` with the lowering's reason. The Neural Engine
        placement estimate is separate (emit/preflight.py)."""
        from edgeq.sdk import lower_quantized

        from edgeq_coreml.emit.lowering import LOWERINGS

        out = []
        lowered = lower_quantized(graph)
        for node in lowered.nodes:
            if node.op_type not in LOWERINGS:
                out.append(NodePlacement(node.name, node.op_type, "unsupported",
                                         f"op type '{node.op_type}' has no Core ML lowering"))
                continue
            if node.op_type == "Resize" and str(node.attrs.get("mode", "nearest")) == "linear":
                # measured on the conformance cases: up to 39 steps from the simulator, or not
                # expressible at all for some coordinate modes (docs/targets/coreml.md)
                out.append(NodePlacement(node.name, node.op_type, "unsupported",
                                         "bilinear Resize does not match ONNX's coordinate modes "
                                         "in Core ML's resize ops; not emitted"))
                continue
            outs = [lowered.tensors[o] for o in node.outputs if o]
            integer = any(t.quant is not None for t in outs) or node.op_type == "Dequantize"
            out.append(NodePlacement(node.name, node.op_type, "integer" if integer else "float",
                                     "" if integer else "fp16 compute (no int8 form)"))
        return out

    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        from edgeq_coreml.emit.export import export, save
        from edgeq_coreml.emit.preflight import format_table, preflight

        out_dir = Path(out_dir)
        settings = resolve_options(options)
        extra = options.extra or {}
        graph = qmodel.graph
        pre = extra.get("preprocessing") or graph.metadata.get("preprocessing") or \
            graph.metadata.get("edgeq.zoo.preprocessing")
        if isinstance(pre, str):
            try:
                pre = json.loads(pre)
            except json.JSONDecodeError:
                pass
        fingerprint = getattr(qmodel, "calibration_fingerprint", None)
        if settings["precision"] != "int8":
            graph = getattr(qmodel, "float_graph", None) or graph
            quantized = [t.name for t in graph.tensors.values() if t.quant is not None]
            if quantized:
                raise UsageError(f"precision {settings['precision']} builds from the float model; "
                                 f"tensor '{quantized[0]}' is quantized")
        scheme = _scheme(settings)
        info = {"edgeq_version": edgeq_version(), "calibration_fingerprint": fingerprint,
                "precision": settings["precision"], "weights": settings["weights"],
                "profile": options.profile or extra.get("profile") or self.name,
                "minimum_deployment_target": settings["deployment_target"], "scheme": scheme,
                "preprocessing": pre, "author": extra.get("author"), "version": extra.get("version"),
                "description": extra.get("description")}
        exp = export(graph, precision=settings["precision"], weights=settings["weights"],
                     deployment_target=settings["deployment_target"], weight_op=settings["weight_op"],
                     metadata=info, image_input=pre if settings["inputs"] == "image" else None,
                     labels=_labels(extra, graph), passes=str(extra.get("passes", "lean")))
        compaction = save(exp, out_dir / MODEL_DIR, compact=bool(extra.get("compact", True)))
        flight = preflight(out_dir / MODEL_DIR)
        for row in flight["ops"]:
            logger.info("ANE pre-flight: %s (%s) likely leaves the Neural Engine: %s [%s]",
                        row["op"], row["op_type"], row["reason"], row["rule"])
        manifest = {
            "target": self.name,
            "profile": info["profile"],
            "chip": options.chip,
            "edgeq_version": edgeq_version(),
            "inputs": [s.to_json() for s in exp.inputs],
            "outputs": [s.to_json() for s in exp.outputs],
            "tool_versions": tool_versions(),
            "calibration_fingerprint": fingerprint,
            "options": {"precision": settings["precision"], "io_dtype": options.io_dtype,
                        "weights": settings["weights"], "float_fallback": _float_fallback(options)},
            "model_file": MODEL_DIR,
            "coreml": {"minimum_deployment_target": exp.deployment_target,
                       "weight_op": settings["weight_op"], "compute_units": settings["compute_units"],
                       "inputs": settings["inputs"], "ops": exp.op_histogram,
                       "quantize_ops": exp.quantize_ops, "int8_constants": exp.int8_constants,
                       "scheme": scheme, "labels": exp.labels, "compaction": compaction},
            "ane_preflight": flight,
            "build_notes": [format_table(flight)],
        }
        artifact = Artifact(out_dir, manifest)
        artifact.write_manifest()
        return artifact


def _labels(extra: dict, graph) -> list[str] | None:
    """Class labels from the profile (a list, or a text file with one label a line) or the
    model's metadata (``labels`` as a JSON list)."""
    labels = extra.get("labels") or graph.metadata.get("labels") or graph.metadata.get("edgeq.zoo.labels")
    if labels is None:
        return None
    if isinstance(labels, str):
        path = Path(labels)
        if path.is_file():
            return [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        try:
            labels = json.loads(labels)
        except json.JSONDecodeError:
            raise UsageError(f"labels '{labels[:80]}' is neither a file nor a JSON list") from None
    return [str(v) for v in labels]


def _scheme(settings: dict) -> dict:
    if settings["precision"] == "int8":
        return {"weights": "int8 symmetric per output channel (constexpr dequantize)",
                "activations": "int8 asymmetric per tensor (quantize/dequantize); "
                               "edgeq int16 tensors computed in fp16",
                "compute": "fp16 between dequantize and quantize"}
    return {"weights": {"int8": "int8 symmetric per output channel, weight-only",
                        "fp16": "fp16", "fp32": "fp32"}[settings["weights"]],
            "activations": settings["precision"], "compute": settings["precision"]}


def build_artifact(qmodel, out_dir: str | Path, options: BuildOptions | None = None,
                   target: CoreMLTarget | None = None) -> Artifact:
    """Emit into ``out_dir`` all-or-nothing (a sibling temporary directory renamed into
    place; an existing ``out_dir`` is replaced only after the new one is complete)."""
    return emit_atomically(target or CoreMLTarget(), qmodel, out_dir, options or BuildOptions())
