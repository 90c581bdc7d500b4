"""The TFLite target: QuantSpec, placement check, and artifact emission.

``TFLiteTarget.emit(qmodel, out_dir, options)`` writes ``model.tflite`` and
``manifest.json`` into ``out_dir``; :func:`build_artifact` wraps it so that a failed
build leaves nothing behind (it emits into a fresh sibling temporary directory and
renames it into place only when everything succeeded).

Options read from ``BuildOptions``: ``precision`` (int8 | fp32 | fp16), ``io_dtype``
(float32 | int8 | uint8) and, from ``extra`` (the target profile's ``options``),
``float_fallback`` (bool), ``preprocessing`` (dict, copied into the metadata).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

from edgeq.sdk import (MANIFEST_NAME, Artifact, ArtifactError, BuildError, BuildOptions,
                       NodePlacement, QuantSpec, Target, UsageError, edgeq_version,
                       emit_atomically)
from edgeq_tflite.spec import TFLITE_INT8

logger = logging.getLogger(__name__)

MODEL_FILE = "model.tflite"

#: ops with an integer TFLite lowering (emit/lowering)
INTEGER_OPS = frozenset({
    "Quantize", "Dequantize", "Conv", "ConvTranspose", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "SquaredDifference", "Rsqrt", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool",
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ArgMax", "ArgMin",
    "Softmax", "LogSoftmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "Clip", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split", "Squeeze", "Unsqueeze",
    "Flatten", "Identity", "Expand", "Tile", "Resize",
})
#: ops whose TFLite kernel has an int8 but no int16 (16x8) version
INT8_ONLY_OPS = frozenset({"HardSwish", "SquaredDifference", "ReduceSum", "LogSoftmax",
                           "ConvTranspose"})
#: ops TFLite runs only in float (usable as float fallback)
FLOAT_ONLY_OPS = frozenset({"Div", "Pow", "Sqrt", "Exp", "Log", "Abs", "Neg", "Silu", "HardSigmoid",
                            "LayerNormalization", "BatchNormalization", "Cast"})

#: what TFLite can run: integer kernels for INTEGER_OPS, and float kernels for those and
#: FLOAT_ONLY_OPS (a node left in float is wrapped in DEQUANTIZE/QUANTIZE). Profiles
#: without ``float_fallback: true`` narrow ``float_fallback_ops`` to nothing
#: (edgeq.targets.ResolvedTarget.spec), which is the default of targets/tflite.yaml.
TFLITE_SPEC = dataclasses.replace(
    TFLITE_INT8, name="tflite", integer_ops=INTEGER_OPS,
    # AVERAGE_POOL_2D and REDUCE_MIN/MAX reuse the input quantization (pooling.cc, reduce.cc)
    same_scale_ops=TFLITE_INT8.same_scale_ops,
    float_fallback_ops=(INTEGER_OPS | FLOAT_ONLY_OPS) - {"Quantize", "Dequantize"},
)
TFLITE_SPEC_STRICT = dataclasses.replace(TFLITE_SPEC, name="tflite-strict",
                                         float_fallback_ops=frozenset())


def _float_fallback(options: BuildOptions) -> bool:
    extra = options.extra or {}
    return bool(extra.get("float_fallback", extra.get("allow_float_fallback", False)))


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("ai-edge-litert", "flatbuffers"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - both are required to emit
            pass
    return out


class TFLiteTarget(Target):
    """Full-integer (or FP32/FP16) ``.tflite`` for LiteRT."""

    name = "tflite"
    artifact_kind = ".tflite"
    sdk_packages = ("ai-edge-litert", "flatbuffers")
    default_runner = "host"
    # the host runner's default kernels (XNNPACK) are within 1 LSB of the reference
    # kernels, which equal the simulator (tests/test_conformance_bitexact.py)
    simulator_tolerance_lsb = 1

    def sdk_modules(self) -> tuple[str, ...]:
        return ("ai_edge_litert", "flatbuffers")

    @property
    def spec(self) -> QuantSpec:
        return TFLITE_SPEC

    def default_quant_spec(self) -> QuantSpec:
        """``edgeq.quantize`` without ``spec=`` quantizes for TFLite int8 (spec.py)."""
        return TFLITE_INT8

    def spec_for(self, options: BuildOptions | dict | None) -> QuantSpec:
        """The spec under a profile's options: without ``float_fallback`` every node must
        run in integer (``TFLITE_SPEC_STRICT``)."""
        if isinstance(options, dict):
            options = BuildOptions(extra=options)
        return TFLITE_SPEC if options is not None and _float_fallback(options) else TFLITE_SPEC_STRICT

    def read_artifact(self, artifact: Artifact) -> dict:
        """The base summary (manifest, sha256) plus the ``.tflite`` itself, verified
        (read/model.py): ``ops``, ``metadata`` and ``model`` (the file's own inputs and
        outputs, tensor and buffer counts). The manifest's I/O must name the model's."""
        from edgeq_tflite.read.model import read_model

        summary = super().read_artifact(artifact)
        name = artifact.manifest.get("model_file", MODEL_FILE)
        if not isinstance(name, str) or name not in summary["files"]:
            raise ArtifactError(f"{artifact.path / MANIFEST_NAME}: model_file {str(name)[:60]!r} is not one of the "
                                "artifact's listed files; rebuild the artifact")
        path = artifact.file(name)
        model = read_model(path)
        for kind in ("inputs", "outputs"):
            tensors = {t["name"]: t for t in model[kind]}
            for spec in summary[kind]:
                t = tensors.get(spec["name"])
                if t is None or t["shape"] != spec["shape"] or t["dtype"] != spec["dtype"]:
                    found = f"{t['shape']} {t['dtype']}" if t else f"not one of {sorted(tensors)}"
                    raise ArtifactError(f"{artifact.path / MANIFEST_NAME}: {kind[:-1]} '{spec['name']}' "
                                        f"({spec['shape']} {spec['dtype']}) does not match {path.name} "
                                        f"({found}); rebuild the artifact")
                _check_layout(spec, artifact.path / MANIFEST_NAME)
        summary.update(ops=model.pop("ops"), metadata=model.pop("metadata"),
                       model={"file": name, **model})
        summary["checked"].append("flatbuffer")
        return summary

    def check(self, graph) -> list[NodePlacement]:
        from edgeq.sdk import convert_layout
        from edgeq_tflite.emit.lower import dry_run

        nhwc = convert_layout(graph)
        reasons = dry_run(nhwc)
        out = []
        for node in nhwc.nodes:
            why = reasons.get(node.name, "")
            if why:
                out.append(NodePlacement(node.name, node.op_type, "unsupported", why))
                continue
            outs = [nhwc.tensors[o] for o in node.outputs if o]
            where = "float" if outs and all(t.dtype.kind == "f" for t in outs) and \
                node.op_type not in ("Dequantize",) else "integer"
            reason = ""
            if where == "float":
                # an op TFLite runs in int8 was left in float by the quantizer (a float
                # request, or a wide tensor under wide: float; its report says which)
                reason = ("kept in float by the quantizer (build report: quantization.float_nodes)"
                          if node.op_type in INTEGER_OPS else "no int8 kernel; float fallback")
            out.append(NodePlacement(node.name, node.op_type, where, reason))
        return out

    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        from edgeq_tflite.emit.export import export_float, export_quantized
        from edgeq_tflite.emit.size import size_breakdown

        out_dir = Path(out_dir)
        info = {"calibration_fingerprint": getattr(qmodel, "calibration_fingerprint", None)}
        extra = options.extra or {}
        graph = qmodel.graph
        pre = extra.get("preprocessing") or graph.metadata.get("preprocessing")
        if isinstance(pre, str):
            try:
                pre = json.loads(pre)
            except json.JSONDecodeError:
                pass
        info["preprocessing"] = pre
        if options.precision == "int8":
            exp = export_quantized(graph, io_dtype=options.io_dtype, metadata=info,
                                   allow_float_fallback=_float_fallback(options))
            _warn_reference_layers(graph)
        elif options.precision in ("fp32", "fp16"):
            if options.io_dtype != "float32":
                raise UsageError(f"--precision {options.precision} has float I/O; io_dtype "
                                 f"'{options.io_dtype}' applies to int8 models only")
            float_graph = getattr(qmodel, "float_graph", None) or graph
            exp = export_float(float_graph, precision=options.precision, metadata=info)
        else:
            raise UsageError(f"precision '{options.precision}' is not one of int8, fp32, fp16")
        _write_atomic(out_dir / MODEL_FILE, exp.model)
        manifest = {
            "target": self.name,
            "profile": options.profile or extra.get("profile") or self.name,
            "chip": options.chip,
            "edgeq_version": edgeq_version(),
            "inputs": [s.to_json() for s in exp.inputs],
            "outputs": [s.to_json() for s in exp.outputs],
            "tool_versions": tool_versions(),
            "calibration_fingerprint": info["calibration_fingerprint"],
            "options": {"precision": options.precision, "io_dtype": options.io_dtype,
                        "float_fallback": _float_fallback(options)},
            "model_file": MODEL_FILE,
            "tflite": {"min_runtime_version": exp.min_runtime_version, "ops": exp.op_histogram,
                       "op_versions": exp.op_versions, "transposes": exp.transposes,
                       "float_nodes": exp.float_nodes, "size": size_breakdown(exp.model)},
        }
        artifact = Artifact(out_dir, manifest)
        artifact.write_manifest()
        return artifact


#: layers whose 16x8 form LiteRT runs only on its reference kernels (XNNPACK has none)
_WEIGHT_LAYERS = ("FullyConnected", "Conv", "ConvTranspose", "MatMul")


def _warn_reference_layers(graph) -> None:
    """Say so when layers read int16 activations: they are most of the latency on a CPU,
    and the tflite-cpu profile avoids them."""
    slow = [n.name for n in graph.nodes if n.op_type in _WEIGHT_LAYERS and n.inputs
            and graph.tensors[n.inputs[0]].dtype == "int16"]
    if slow:
        logger.warning("%d layer(s) read int16 activations (%s%s): LiteRT runs 16x8 layers on its "
                    "reference kernels, XNNPACK not at all. On a phone CPU, --target tflite-cpu "
                    "runs the tensors that need more than 8 bits in float32, in XNNPACK "
                    "(docs/targets/tflite.md)", len(slow), ", ".join(slow[:3]),
                    " …" if len(slow) > 3 else "")


def _check_layout(spec: dict, manifest: Path) -> None:
    """A spec's ``layout`` (the model's axis order, e.g. NHWC) is a permutation of the
    source layout's letters (NCHW…), which the runners transpose by."""
    layout = spec.get("layout")
    shape = spec.get("source_shape") or spec["shape"]
    if layout is None:
        return
    letters = "NC" + "DHW"[3 - (len(shape) - 2):] if len(shape) >= 2 else None
    if not isinstance(layout, str) or letters is None or sorted(layout) != sorted(letters):
        raise ArtifactError(f"{manifest}: '{spec['name']}' has layout {str(layout)[:20]!r}, not an "
                            f"order of the axes of its shape {shape}; rebuild the artifact")


def _write_atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"{path}: cannot write the model ({exc.strerror or exc}); check the output "
                         "directory's permissions and free space") from exc


def build_artifact(qmodel, out_dir: str | Path, options: BuildOptions | None = None,
                   target: TFLiteTarget | None = None) -> Artifact:
    """Emit into ``out_dir`` all-or-nothing: a sibling temporary directory is filled and
    renamed into place; on any error nothing is left (an existing ``out_dir`` is only
    replaced after the new one is complete)."""
    return emit_atomically(target or TFLiteTarget(), qmodel, out_dir, options or BuildOptions())
