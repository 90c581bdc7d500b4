"""edgeq graph -> MIL program -> saved ``.mlpackage``: the library entry point of the
Core ML emitter.

:func:`export` lowers the graph with the core's ``lower_quantized`` (LSTM unrolled into
cell ops, L2 normalisation, Pow, HardSigmoid … in simple ops; the same graph the integer
simulator runs), builds one MIL ``main`` function (NCHW, as the IR: no layout pass),
converts it with ``ct.convert(convert_to="mlprogram")`` at the profile's minimum
deployment target and fp16 compute precision (fp32 for ``precision: fp32``), sets the
model's metadata and saves it. Every node that cannot be lowered is reported at once.

Inputs: float tensors stay float32 multiarrays; int64 inputs (token ids, masks) become
int32 (Core ML multiarrays have no int64). Names are sanitized for MIL and recorded
as ``coreml_name`` next to the IR name in the manifest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeq.sdk import BuildError, Graph, UnsupportedOpError, UsageError, require_module

from edgeq_coreml.emit.context import EmitContext, mil_name

logger = logging.getLogger(__name__)

#: profile value -> (coremltools target attribute, opset for the MIL function)
DEPLOYMENT_TARGETS = ("iOS15", "iOS16", "iOS17", "iOS18", "macOS12", "macOS13", "macOS14", "macOS15")
_IOS_OF = {"macOS12": "iOS15", "macOS13": "iOS16", "macOS14": "iOS17", "macOS15": "iOS18"}


@dataclass
class TensorSpec:
    """One model input/output as the .mlpackage sees it."""

    name: str
    coreml_name: str
    shape: tuple[int, ...]
    dtype: str
    quant: dict | None = None
    layout: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "coreml_name": self.coreml_name, "shape": list(self.shape),
                "dtype": self.dtype, "quant": self.quant, "layout": self.layout}


@dataclass
class Export:
    model: object  # coremltools MLModel (not loaded)
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    op_histogram: dict[str, int]
    deployment_target: str
    quantize_ops: int = 0
    int8_constants: int = 0
    float_nodes: list[str] = field(default_factory=list)
    labels: list[str] | None = None


#: The converter passes edgeq's program needs (coremltools' PassPipeline names). The
#: program is already what it should be — per-op QDQ, fused clamps, conv/linear with
#: bias — so the default pipeline's ~95 fusion passes, each followed by a validation of
#: the whole program, mostly re-check it: they took 14 of PP-OCR's 17 s of build. Kept:
#: the quantization canonicalizations (int8 zero point -128 -> uint8, redundant
#: dequantize/quantize pairs), constant folding and deduplication, name sanitizing, the
#: image-input preprocessing, and the fp16 casts with their cleanup.
LEAN_PASSES = (
    "common::update_output_dtypes", "common::cast_optimization", "common::noop_elimination",
    "common::int_op_canonicalization", "common::nullify_redundant_quantization_zero_point",
    "common::dequantize_quantize_pair_elimination", "common::const_elimination",
    "common::sanitize_input_output_names", "common::image_input_preprocess",
    "common::const_deduplication", "common::dedup_op_and_var_names", "common::add_fp16_cast",
    "common::update_output_dtypes", "common::guard_negative_gather_indices",
    "common::const_elimination", "common::dead_code_elimination", "common::cast_optimization",
    # again after the fp16 casts: the identity naming each output is then a no-op before
    # its fp32 cast (silero VAD's program had three)
    "common::noop_elimination", "common::merge_consecutive_reshapes",
    "common::dead_code_elimination",
)


def ios_level(target: str) -> str:
    if target not in DEPLOYMENT_TARGETS:
        raise BuildError(f"minimum_deployment_target '{target}' is not one of "
                         f"{', '.join(DEPLOYMENT_TARGETS)}; set it in the target profile's extra options")
    return _IOS_OF.get(target, target)


def check_target(precision: str, weights: str, target: str, weight_op: str) -> None:
    """The ops each mode writes exist at the deployment target (MIL opset versions)."""
    level = int(ios_level(target)[3:])
    if precision == "int8" and level < 17:
        raise BuildError(f"W8A8 needs quantize/dequantize (iOS17 / macOS14); the profile says "
                         f"minimum_deployment_target '{target}'. Raise it, or build ane-w8 instead")
    if weights == "int8" and level < 16:
        raise BuildError(f"int8 weights need constexpr_affine_dequantize (iOS16 / macOS13); the "
                         f"profile says '{target}'")
    if weight_op == "blockwise" and level < 18:
        raise BuildError(f"constexpr_blockwise_shift_scale needs iOS18 / macOS15; the profile says "
                         f"'{target}'")


def build_program(graph: Graph, *, opset: str, weights: str, weight_op: str,
                  image_input: dict | None = None):
    """The MIL Program of ``graph`` (already lowered) and its EmitContext."""
    ct = require_module("coremltools", "coremltools", "the Core ML target")
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.mil import Function, Program, types

    from edgeq_coreml.emit.lowering import lookup

    placeholders = {}
    for name in graph.inputs:
        t = graph.tensors[name]
        dt = np.dtype(t.dtype)
        if dt.kind == "f":
            mil_dt = types.fp32
        elif dt.kind in "iu":
            mil_dt = types.int32
        else:
            raise UnsupportedOpError(f"input '{name}' has dtype {dt}; Core ML inputs are float or int32",
                                     nodes=[name])
        placeholders[mil_name(name)] = mb.placeholder(shape=tuple(int(d) for d in t.shape), dtype=mil_dt)
    failures: list[UnsupportedOpError] = []
    opset_enum = getattr(ct.target, opset)
    with Function(placeholders, opset_version=opset_enum) as func:
        ctx = EmitContext(graph, mb, weights=weights, weight_op=weight_op)
        for name in graph.inputs:
            ctx.vars[name] = func.inputs[mil_name(name)]
        if image_input is not None:
            name = _image_input_name(graph, image_input)
            ctx.vars[name] = _normalize(mb, ctx.vars[name], image_input)
        for node in graph.nodes:
            try:
                lookup(node)(ctx, node)
            except UnsupportedOpError as exc:
                failures.append(exc)
                for out in node.outputs:  # keep going to report every node
                    if out:
                        ctx.vars[out] = _placeholder_value(ctx, mb, out)
            except (ValueError, TypeError, AssertionError) as exc:
                failures.append(ctx.unsupported(node, f"coremltools rejected the op: {exc}"))
                for out in node.outputs:
                    if out:
                        ctx.vars[out] = _placeholder_value(ctx, mb, out)
        if failures:
            raise combine_failures(failures)
        outs = []
        for name in graph.outputs:
            v = ctx.value(name)
            if isinstance(v, np.ndarray):
                v = mb.const(val=v)
            outs.append(mb.identity(x=v, name=mil_name(name)))
        func.set_outputs(outs)
    prog = Program()
    prog.add_function("main", func)
    return prog, ctx


def _image_input_name(graph: Graph, pre: dict) -> str:
    name = pre.get("input_name") or graph.inputs[0]
    shape = graph.tensors[name].shape if name in graph.tensors else ()
    if len(shape) != 4 or shape[1] not in (1, 3):
        raise UsageError(f"inputs: image needs an NCHW input with 1 or 3 channels; '{name}' has "
                         f"shape {tuple(shape)}")
    return name


def _normalize(mb, x, pre: dict):
    """``(x - mean) / std`` per channel after Core ML's image scaling (``scale`` only, see
    :func:`image_type`): the ImageType's single scale cannot carry a per-channel std."""
    mean = np.asarray(pre.get("mean", [0.0]), np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(pre.get("std", [1.0]), np.float32).reshape(1, -1, 1, 1)
    if np.all(mean == 0) and np.all(std == 1):
        return x
    return mb.add(x=mb.mul(x=x, y=(1.0 / std).astype(np.float32)), y=(-mean / std).astype(np.float32))


def image_type(ct, graph: Graph, pre: dict):
    """``ct.ImageType`` of the image input: pixel values times the preprocessing's
    ``scale`` (e.g. 1/255); mean/std follow inside the program (:func:`_normalize`)."""
    name = _image_input_name(graph, pre)
    shape = tuple(int(d) for d in graph.tensors[name].shape)
    color = str(pre.get("color", "RGB")).upper()
    layout = {"RGB": ct.colorlayout.RGB, "BGR": ct.colorlayout.BGR,
              "GRAY": ct.colorlayout.GRAYSCALE, "GRAYSCALE": ct.colorlayout.GRAYSCALE}.get(color)
    if layout is None:
        raise UsageError(f"preprocessing color '{color}' is not RGB, BGR or GRAY")
    if shape[1] == 1:
        layout = ct.colorlayout.GRAYSCALE
    return ct.ImageType(name=mil_name(name), shape=shape, scale=float(pre.get("scale", 1.0)),
                        bias=[0.0] * shape[1] if shape[1] == 3 else 0.0, color_layout=layout)


def _placeholder_value(ctx, mb, name):
    t = ctx.ir(name)
    return mb.fill(shape=np.asarray([int(d) for d in t.shape] or [1], np.int32), value=np.float32(0))


def combine_failures(failures: list[UnsupportedOpError]) -> UnsupportedOpError:
    nodes = [n for f in failures for n in f.nodes]
    lines = "\n".join(f"  - {f}" for f in failures)
    return UnsupportedOpError(
        f"{len(nodes)} node(s) cannot be expressed as a Core ML ML Program:\n{lines}\n"
        "Change the model (e.g. export these ops in a supported form) or build another target.",
        op_type=failures[0].op_type, nodes=nodes)


def export(graph: Graph, *, precision: str = "int8", weights: str = "int8",
           deployment_target: str = "iOS17", weight_op: str = "affine",
           metadata: dict | None = None, image_input: dict | None = None,
           labels: list[str] | None = None, passes: str = "lean") -> Export:
    """Lower, build, convert. ``graph``: a QuantizedGraph for ``precision='int8'``, else a
    float graph (``weights`` int8 = weight-only int8, fp16/fp32 = float constants)."""
    ct = require_module("coremltools", "coremltools", "the Core ML target")
    from edgeq.sdk import lower_quantized

    check_target(precision, weights, deployment_target, weight_op)
    lowered = lower_quantized(graph)
    prog, ctx = build_program(lowered, opset=ios_level(deployment_target), weights=weights,
                              weight_op=weight_op, image_input=image_input)
    compute = ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16
    kw = {}
    if image_input is not None:
        name = _image_input_name(lowered, image_input)
        kw["inputs"] = [image_type(ct, lowered, image_input) if n == name else
                        ct.TensorType(name=mil_name(n), shape=tuple(int(d) for d in lowered.tensors[n].shape),
                                      dtype=np.float32 if np.dtype(lowered.tensors[n].dtype).kind == "f" else np.int32)
                        for n in lowered.inputs]
    if labels:
        if len(lowered.outputs) != 1 or int(np.prod(lowered.tensors[lowered.outputs[0]].shape)) != len(labels):
            raise UsageError(f"{len(labels)} class labels for outputs "
                             f"{[tuple(lowered.tensors[o].shape) for o in lowered.outputs]}; a classifier "
                             "has one output with one score per label")
        kw["classifier_config"] = ct.ClassifierConfig(list(labels))
    if passes == "lean":
        kw["pass_pipeline"] = ct.PassPipeline(pass_names=list(LEAN_PASSES), pipeline_name="edgeq-lean")
    elif passes != "default":
        raise UsageError(f"passes '{passes}' is not lean or default (target profile options.extra.passes)")
    try:
        model = ct.convert(prog, convert_to="mlprogram", compute_precision=compute,
                           minimum_deployment_target=getattr(ct.target, deployment_target),
                           skip_model_load=True, **kw)
    except (ValueError, TypeError, RuntimeError, NotImplementedError) as exc:
        raise BuildError(f"coremltools could not convert the program: {exc}") from exc
    _set_metadata(model, metadata or {}, precision)
    inputs, outputs = _io_specs(model, lowered, graph)
    hist: dict[str, int] = {}
    for op in _ops(model):
        hist[op] = hist.get(op, 0) + 1
    return Export(model, inputs, outputs, hist, deployment_target, ctx.quantize_ops,
                  len(ctx.int8_weights), labels=list(labels) if labels else None)


def _ops(model) -> list[str]:
    spec = model.get_spec()
    out = []

    def walk(block):
        for op in block.operations:
            out.append(op.type)
            for b in op.blocks:
                walk(b)

    for fn in spec.mlProgram.functions.values():
        for blk in fn.block_specializations.values():
            walk(blk)
    return out


def _io_specs(model, lowered: Graph, source: Graph) -> tuple[list[TensorSpec], list[TensorSpec]]:
    spec = model.get_spec()
    in_names = [f.name for f in spec.description.input]
    kinds = {f.name: f.type.WhichOneof("Type") for f in spec.description.input}
    # a classifier's extra outputs (class label, label -> probability) are not tensors
    out_names = [f.name for f in spec.description.output if f.type.WhichOneof("Type") == "multiArrayType"]
    if not out_names and spec.description.predictedProbabilitiesName:
        out_names = [spec.description.predictedProbabilitiesName]  # label -> probability
    if len(in_names) != len(lowered.inputs) or len(out_names) != len(lowered.outputs):
        raise BuildError(f"the converted model has {len(in_names)} inputs / {len(out_names)} outputs; "
                         f"the graph has {len(lowered.inputs)} / {len(lowered.outputs)}")
    by_mil = {mil_name(n): n for n in lowered.inputs}

    def one(ir_name, cm_name, is_input):
        t = source.tensors.get(ir_name) or lowered.tensors[ir_name]
        dt = np.dtype(t.dtype)
        dtype = "float32" if dt.kind == "f" else "int32"
        if is_input and kinds.get(cm_name) == "imageType":
            dtype = "image"
        return TensorSpec(ir_name, cm_name, tuple(int(d) for d in t.shape), dtype, None,
                          "NCHW" if len(t.shape) == 4 else None)

    ins = [one(by_mil.get(n, lowered.inputs[i]), n, True) for i, n in enumerate(in_names)]
    outs = [one(lowered.outputs[i], n, False) for i, n in enumerate(out_names)]
    return ins, outs


def _set_metadata(model, info: dict, precision: str) -> None:
    model.author = str(info.get("author") or "edgeq")
    model.version = str(info.get("version") or "1")
    model.short_description = str(info.get("description") or f"edgeq {precision} Core ML model")
    meta = model.user_defined_metadata
    for key in ("edgeq_version", "calibration_fingerprint", "precision", "weights", "profile",
                "minimum_deployment_target"):
        if info.get(key) is not None:
            meta[f"edgeq.{key}"] = str(info[key])
    if info.get("scheme") is not None:
        meta["edgeq.quantization_scheme"] = json.dumps(info["scheme"], sort_keys=True)
    if info.get("preprocessing") is not None:
        meta["edgeq.preprocessing"] = json.dumps(info["preprocessing"], sort_keys=True)


def save(exp: Export, path: Path, *, compact: bool = True) -> dict | None:
    """``MLModel.save`` of the unloaded model into ``path`` (a ``.mlpackage`` directory),
    then, with ``compact``, the program's spec rewritten by emit/compact.py, and what
    varies between runs fixed (emit/reproducible.py)."""
    try:
        exp.model.save(str(path))
        import coremltools as ct

        from edgeq_coreml.emit.reproducible import fix_manifest, spec_bytes

        spec_file = path / "Data" / "com.apple.CoreML" / "model.mlmodel"
        spec = ct.proto.Model_pb2.Model()
        spec.ParseFromString(spec_file.read_bytes())
        stats = None
        if compact:
            from edgeq_coreml.emit.compact import compact_spec

            stats = compact_spec(spec)
        spec_file.write_bytes(spec_bytes(spec))
        fix_manifest(path)
        return stats
    except (OSError, ValueError, RuntimeError) as exc:
        raise BuildError(f"{path}: cannot save the .mlpackage ({exc}); check the output "
                         "directory's permissions and free space") from exc
