"""The QNN HTP target: QuantSpec, placement check, and artifact emission.

``QnnTarget.emit(qmodel, out_dir, options)`` writes into ``out_dir`` (a temporary
directory the core renames into place only when ``emit`` returns):

* ``model.qdq.onnx``: the QNN-ready QDQ ONNX model, every quantization parameter edgeq's
  (emit/qdq.py);
* ``encodings.json``: the same parameters as AIMET-style encodings for
  ``qnn-onnx-converter --quantization_overrides`` (emit/encodings.py);
* ``model_ctx.onnx`` + ``model_ctx_*.bin``: the EPContext model and the HTP context
  binary compiled offline for the profile's ``htp_arch``/``soc_model`` (emit/context.py);
* ``manifest.json`` (``Artifact.write_manifest``).

Options: ``precision`` must be ``int8`` and ``io_dtype`` ``float32`` (the boundary
QuantizeLinear/DequantizeLinear run on HTP); from ``extra`` (the profile's options):
``htp_arch`` (68, 69, 73, 75, 79; default 75), ``soc_model`` (QNN SoC id, optional),
``context_binary`` (default true) and ``precisions`` (checked against what the emitter
writes, so a profile cannot silently promise another format).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from edgeq.sdk import (MANIFEST_NAME, Artifact, ArtifactError, BuildOptions, ConfigError,
                       NodePlacement, QuantSpec, Target, UsageError, edgeq_version)
from edgeq_qnn.spec import QNN_HTP

logger = logging.getLogger(__name__)

QDQ_FILE = "model.qdq.onnx"
ENCODINGS_FILE = "encodings.json"
HTP_ARCHS = (68, 69, 73, 75, 79)
DEFAULT_HTP_ARCH = 75

#: the formats the emitter writes (targets/qnn-htp-*.yaml ``precisions``)
PRECISIONS = {
    "activations": "uint8",
    "int16_activations": "uint16",
    "conv_weights": "int8-symmetric-per-channel",
    # FullyConnected (constant-weight MatMul): per channel, emitted as a 1x1 Conv
    # (emit/lowering/linear.py); a per-tensor weight (QNN_HTP_FC_PER_TENSOR) stays a Gemm
    "matmul_weights": "int8-symmetric-per-channel",
    "bias": "int32",
}
EXTRA_KEYS = frozenset({"htp_arch", "soc_model", "precisions", "context_binary", "profile",
                        "preprocessing"})


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("onnxruntime", "onnxruntime-qnn", "onnx"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - required to emit
            pass
    return out


def htp_options(extra: dict | None) -> dict:
    """``{"htp_arch", "soc_model", "context_binary"}`` validated from a profile's ``extra``."""
    extra = dict(extra or {})
    unknown = sorted(set(extra) - EXTRA_KEYS)
    if unknown:  # the core passes its own options (float_fallback …) through extra too
        logger.debug("qnn target options: ignoring %s", unknown)
    try:
        arch = int(extra.get("htp_arch", DEFAULT_HTP_ARCH))
        soc = extra.get("soc_model")
        soc = None if soc in (None, "", 0, "0") else int(soc)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"qnn target options: htp_arch/soc_model must be integers ({exc})") from exc
    if arch not in HTP_ARCHS:
        raise ConfigError(f"qnn target options: htp_arch {arch} is not one of {list(HTP_ARCHS)}")
    for key, value in (extra.get("precisions") or {}).items():
        if key not in PRECISIONS:
            raise ConfigError(f"qnn target options: precisions.{key} is unknown; known: "
                              f"{sorted(PRECISIONS)}")
        if str(value) != PRECISIONS[key]:
            raise ConfigError(f"qnn target options: precisions.{key} is '{value}', but the QNN "
                              f"emitter writes '{PRECISIONS[key]}' (HTP's format); fix the profile")
    return {"htp_arch": arch, "soc_model": soc, "context_binary": bool(extra.get("context_binary", True))}


class QnnTarget(Target):
    """Qualcomm QNN on the Hexagon NPU (HTP), through onnxruntime-qnn."""

    name = "qnn"
    artifact_kind = "qnn-context-binary"
    sdk_packages = ("onnxruntime-qnn", "onnx")
    default_runner = "host"
    # measured on the conformance cases (docs/targets/qnn.md): linear int8 ops within 1
    # LSB, HTP's own rsqrt / softmax up to 4; uint16 tensors up to 11 steps (rsqrt 16x8)
    simulator_tolerance_lsb = {"int8": 4, "int16": 16}
    known_deviations = {
        "matmul_16x8": "HTP's 16x8 MatMul: 136 uint16 steps from the simulator (0.4 % of the "
                       "output range) on the emulator",
        "quantize_int8_to_int16": "HTP requantizes int8 to uint16 about one int8 step (200 "
                                  "uint16 steps) off the simulator on the emulator",
    }

    def sdk_modules(self) -> tuple[str, ...]:
        return ("onnxruntime_qnn", "onnx")

    @property
    def spec(self) -> QuantSpec:
        return QNN_HTP

    def spec_for(self, options: BuildOptions | dict | None) -> QuantSpec:
        """The spec is the same under every profile option but ``int16`` (narrowed by the core)."""
        return QNN_HTP

    def read_artifact(self, artifact: Artifact) -> dict:
        """The base summary (manifest, sha256) plus the QNN files checked in Python before
        onnx's checker and onnxruntime see them (emit/readback.py): ``ops`` of the QDQ
        model, ``metadata`` (HTP architecture, SoC, encoding counts) and ``model`` (the QDQ
        and EPContext models' inputs/outputs). The manifest's I/O must be the models'."""
        from edgeq_qnn.emit.readback import (io_dtypes, io_names, io_shapes, op_counts, read_context_model,
                                             read_encodings, read_onnx)

        summary = super().read_artifact(artifact)
        manifest = artifact.path / MANIFEST_NAME
        qnn = artifact.manifest.get("qnn")

        def listed(name) -> Path:
            if not isinstance(name, str) or name not in summary["files"]:
                raise ArtifactError(f"{manifest}: qnn names the file {str(name)[:60]!r}, which is not one "
                                    "of the artifact's listed files; rebuild the artifact")
            return artifact.file(name)

        if not isinstance(qnn, dict) or qnn.get("htp_arch") not in HTP_ARCHS or \
                not (qnn.get("soc_model") is None or type(qnn.get("soc_model")) is int):
            raise ArtifactError(f"{manifest}: 'qnn' needs the htp_arch ({', '.join(map(str, HTP_ARCHS))}) "
                                "and soc_model the build used; rebuild the artifact")
        qdq = read_onnx(listed(qnn.get("qdq_model")))
        model = {"qdq_model": qnn["qdq_model"]}
        model["inputs"], model["outputs"] = io_names(qdq)
        expected = ([s["name"] for s in summary["inputs"]], [s["name"] for s in summary["outputs"]])
        if (model["inputs"], model["outputs"]) != expected:
            raise ArtifactError(f"{manifest}: inputs/outputs {expected} are not those of "
                                f"{qnn['qdq_model']} {(model['inputs'], model['outputs'])}; rebuild the artifact")
        shapes, dtypes = io_shapes(qdq), io_dtypes(qdq)
        for spec in summary["inputs"] + summary["outputs"]:
            # float I/O (the boundary (De)QuantizeLinear run on HTP), or integer inputs such as
            # token ids that the model takes as they are: either way what the QDQ model declares
            if spec["dtype"] != dtypes[spec["name"]]:
                raise ArtifactError(f"{manifest}: '{spec['name']}' has dtype {spec['dtype'][:20]!r}, "
                                    f"{qnn['qdq_model']} declares {dtypes[spec['name']]!r}; rebuild the artifact")
            if shapes[spec["name"]] != spec["shape"]:
                raise ArtifactError(f"{manifest}: '{spec['name']}' has shape {spec['shape']}, "
                                    f"{qnn['qdq_model']} declares {shapes[spec['name']]}; rebuild the artifact")
        encodings = read_encodings(listed(qnn.get("encodings")))
        ctx = qnn.get("context")
        if ctx is not None:
            if not isinstance(ctx, dict):
                raise ArtifactError(f"{manifest}: qnn.context is not an object; rebuild the artifact")
            listed(ctx.get("binary_file"))
            model["context"] = read_context_model(listed(ctx.get("model_file")), ctx["binary_file"])
            if (model["context"]["inputs"], model["context"]["outputs"]) != expected:
                raise ArtifactError(f"{manifest}: the EPContext model's inputs/outputs are not the "
                                    f"artifact's {expected}; rebuild the artifact")
        summary.update(ops=op_counts(qdq), model=model,
                       metadata={"htp_arch": qnn["htp_arch"], "soc_model": qnn["soc_model"], **encodings})
        summary["checked"] += ["qdq-onnx", "encodings"] + (["ep-context"] if ctx is not None else [])
        return summary

    def check(self, graph) -> list[NodePlacement]:
        """Where each node of the quantized graph runs: ``integer`` (a QNN HTP op) or
        ``unsupported`` with the reason (no lowering, not quantized).
        Whether QNN then accepts each op is only known to onnxruntime-qnn: the host runner
        and ``emit`` (context compilation) check that with CPU fallback disabled."""
        from edgeq.sdk import lower_quantized

        from edgeq_qnn.emit.lowering import LOWERINGS

        g = lower_quantized(graph)
        out = []
        for node in g.nodes:
            if node.op_type not in LOWERINGS:
                out.append(NodePlacement(node.name, node.op_type, "unsupported",
                                         f"no QNN HTP lowering for {node.op_type}"))
                continue
            outs = [g.tensors[o] for o in node.outputs if o]
            floating = node.op_type not in ("Dequantize", "Cast") and outs and \
                all(t.quant is None and t.dtype.kind == "f" for t in outs)
            out.append(NodePlacement(node.name, node.op_type, "unsupported" if floating else "integer",
                                     "not quantized; HTP runs this target's ops quantized" if floating
                                     else ""))
        return out

    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        import onnx

        from edgeq_qnn.emit.context import compile_context
        from edgeq_qnn.emit.encodings import aimet_encodings
        from edgeq_qnn.emit.qdq import WEIGHT_INPUTS, export_qdq
        from edgeq_qnn.runners.session import qnn_module

        qnn_module()  # TargetUnavailableError naming onnxruntime-qnn before any work
        if options.precision != "int8":
            raise UsageError(f"precision '{options.precision}': the QNN HTP target emits int8 "
                             "(uint8/uint16) QDQ models only")
        if options.io_dtype != "float32":
            raise UsageError(f"io_dtype '{options.io_dtype}': the QNN HTP target has float32 I/O "
                             "(its QuantizeLinear/DequantizeLinear run on HTP)")
        htp = htp_options(options.extra)
        out_dir = Path(out_dir)
        graph = qmodel.graph
        exp = export_qdq(graph, name=graph.name or "edgeq")
        qdq_path = out_dir / QDQ_FILE
        onnx.save(exp.model, str(qdq_path))
        params = set()
        from edgeq.sdk import lower_quantized

        lowered = lower_quantized(graph)
        for node in lowered.nodes:
            if node.op_type in WEIGHT_INPUTS:  # constants only: a MatMul of two activations has none
                params.update(i for i in node.inputs[1:] if i and lowered.tensors[i].data is not None)
        (out_dir / ENCODINGS_FILE).write_text(json.dumps(aimet_encodings(exp.encodings, params), separators=(",", ":")))
        ctx_info, timings = None, {}
        if htp["context_binary"]:
            ctx = compile_context(qdq_path, out_dir, htp_arch=htp["htp_arch"], soc_model=htp["soc_model"])
            ctx_info = {"model_file": ctx.model.name, "binary_file": ctx.binary.name,
                        "graph_name": ctx.graph_name, "binary_bytes": ctx.binary.stat().st_size}
            timings["context_compile_s"] = round(ctx.seconds, 3)
        extra = options.extra or {}
        manifest = {
            "target": self.name,
            "profile": options.profile or extra.get("profile") or self.name,
            "chip": options.chip,
            "edgeq_version": edgeq_version(),
            "inputs": exp.inputs,
            "outputs": exp.outputs,
            "tool_versions": tool_versions(),
            "calibration_fingerprint": getattr(qmodel, "calibration_fingerprint", None),
            "options": {"precision": options.precision, "io_dtype": options.io_dtype, **htp},
            "model_file": ctx_info["model_file"] if ctx_info else QDQ_FILE,
            "qnn": {"qdq_model": QDQ_FILE, "encodings": ENCODINGS_FILE, "context": ctx_info,
                    "htp_arch": htp["htp_arch"], "soc_model": htp["soc_model"],
                    "ops": exp.op_histogram, "precisions": dict(PRECISIONS),
                    "output_encodings": {o["name"]: exp.encodings.get(_dq_source(graph, o["name"]))
                                         for o in exp.outputs}},
        }
        artifact = Artifact(out_dir, manifest, timings)
        artifact.write_manifest()
        return artifact


def _dq_source(graph, output: str) -> str:
    p = graph.producers().get(output)
    return p.inputs[0] if p is not None and p.op_type == "Dequantize" else output

