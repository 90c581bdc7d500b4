"""Graph -> .tflite bytes: the library entry points of the TFLite emitter.

* :func:`export_quantized` - a QuantizedGraph (docs/quantization.md) to a full-integer
  model, with float / int8 / uint8 I/O.
* :func:`export_float` - a float graph to an FP32 model, or FP16 (float16 weights +
  DEQUANTIZE, the converter's float16 quantization, for GPU delegates); the graph is
  first lowered with ``edgeq.quantize.rewrites.prepare.lower`` (LSTM unrolled into cell ops, L2
  normalisation, Pow, … in builtin ops).

Both convert the layout to NHWC (edgeq.ir.passes.convert_layout), lower every node
(all failures reported together), add ``min_runtime_version`` and edgeq metadata, and
return an :class:`Export` describing the result.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numpy as np

from edgeq.sdk import Graph, UsageError, convert_layout

from edgeq_tflite.emit.io import apply_io_dtype
from edgeq_tflite.emit.lower import lower_graph
from edgeq_tflite.emit.metadata import (EDGEQ_METADATA, MIN_RUNTIME_VERSION, edgeq_payload,
                                        runtime_version_payload)
from edgeq_tflite.emit.schema import schema
from edgeq_tflite.emit.versions import min_runtime_version
from edgeq_tflite.emit.writer import ModelWriter

logger = logging.getLogger(__name__)

_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


@dataclass
class TensorSpec:
    """One model input/output as the .tflite sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: dict | None
    layout: str | None = None
    source_shape: tuple[int, ...] | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "quant": self.quant, "layout": self.layout,
                "source_shape": list(self.source_shape) if self.source_shape else None}


@dataclass
class Export:
    """A serialized model and what it contains."""

    model: bytes
    graph: Graph  # the NHWC graph that was lowered
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    op_histogram: dict[str, int]
    op_versions: dict[str, int]
    min_runtime_version: str
    transposes: int
    float_nodes: list[str] = field(default_factory=list)


def _specs(nhwc: Graph, source: Graph, names: list[str], layouts: dict) -> list[TensorSpec]:
    out = []
    for n in names:
        t = nhwc.tensors[n]
        src = source.tensors[n].shape if n in source.tensors else t.shape
        out.append(TensorSpec(n, t.shape, t.dtype.name, t.quant.to_json() if t.quant else None,
                              layouts.get(n), src))
    return out


def _is_boundary_cast(g: Graph, node, consumers) -> bool:
    """An int -> float32 Cast of a graph input read only by Quantize nodes is part of the
    input boundary (docs/quantization.md, "The QuantizedGraph"), not float compute."""
    if node.op_type != "Cast" or len(node.inputs) != 1 or node.inputs[0] not in g.inputs:
        return False
    readers = [c for o in node.outputs if o for c in consumers.get(o, [])]
    return bool(readers) and all(c.op_type == "Quantize" for c in readers)


def _float_compute_nodes(g: Graph) -> list[str]:
    """Nodes of a quantized graph that compute in float (fallback), boundary excluded."""
    out = []
    consumers = g.consumers()
    for n in g.nodes:
        if n.op_type in ("Quantize", "Dequantize") or _is_boundary_cast(g, n, consumers):
            continue
        outs = [g.tensors[o] for o in n.outputs if o]
        if outs and all(t.dtype.kind == "f" for t in outs):
            out.append(n.name)
    return out


def _serialize(graph: Graph, source: Graph, *, fp16: bool, description: str, info: dict) -> Export:
    nhwc = convert_layout(graph)
    writer = ModelWriter(description)
    lower_graph(nhwc, writer, fp16_weights=fp16)
    versions = writer.opcode_versions()
    runtime = min_runtime_version(versions)
    if runtime:
        writer.add_metadata(MIN_RUNTIME_VERSION, runtime_version_payload(runtime))
    in_layouts = json.loads(nhwc.metadata.get("input_layouts", "{}"))
    out_layouts = json.loads(nhwc.metadata.get("output_layouts", "{}"))
    inputs = _specs(nhwc, source, nhwc.inputs, in_layouts)
    outputs = _specs(nhwc, source, nhwc.outputs, out_layouts)
    meta = dict(info)
    meta["inputs"] = [s.to_json() for s in inputs]
    meta["outputs"] = [s.to_json() for s in outputs]
    writer.add_metadata(EDGEQ_METADATA, edgeq_payload(meta))
    model = writer.finish(input_names=list(nhwc.inputs), output_names=list(nhwc.outputs))
    hist: dict[str, int] = {}
    for code in writer.operator_codes():
        hist[_BUILTIN_NAMES[code]] = hist.get(_BUILTIN_NAMES[code], 0) + 1
    return Export(model, nhwc, inputs, outputs, hist,
                  {_BUILTIN_NAMES[b]: v for b, v in versions.items()}, runtime,
                  hist.get("TRANSPOSE", 0))


def _info(metadata: dict | None, **extra) -> dict:
    from edgeq.sdk import edgeq_version

    info = {"edgeq_version": edgeq_version()}
    info.update(metadata or {})
    info.update(extra)
    return info


def export_quantized(graph: Graph, *, io_dtype: str = "float32", metadata: dict | None = None,
                     allow_float_fallback: bool = False) -> Export:
    """A QuantizedGraph to a full-integer .tflite (see the module docstring)."""
    from edgeq.sdk import UnsupportedOpError

    g = apply_io_dtype(graph, io_dtype)
    floats = _float_compute_nodes(g)
    if floats and not allow_float_fallback:
        raise UnsupportedOpError(
            f"{len(floats)} node(s) are not quantized and the target profile does not allow "
            f"float fallback: {', '.join(floats[:20])}{' …' if len(floats) > 20 else ''}. "
            "Quantize them, or set allow_float_fallback: true in the tflite target profile.",
            nodes=floats)
    exp = _serialize(g, graph, fp16=False, description="edgeq full-integer model",
                     info=_info(metadata, precision="int8", io_dtype=io_dtype))
    exp.float_nodes = floats
    logger.info("tflite: %d operators, %d TRANSPOSE, min runtime %s", sum(exp.op_histogram.values()),
                exp.transposes, exp.min_runtime_version)
    return exp


def export_float(graph: Graph, *, precision: str = "fp32", metadata: dict | None = None) -> Export:
    """A float graph to an FP32 or FP16-weight .tflite."""
    if precision not in ("fp32", "fp16"):
        raise UsageError(f"float precision '{precision}' is not fp32 or fp16")
    quantized = [t.name for t in graph.tensors.values() if t.quant is not None]
    if quantized:
        raise UsageError(f"export_float needs a float graph; tensor '{quantized[0]}' is quantized "
                         "(use export_quantized)")
    for name in graph.inputs:
        if graph.tensors[name].dtype not in (np.float32, np.int64, np.int32, np.bool_):
            raise UsageError(f"input '{name}' has dtype {graph.tensors[name].dtype}")
    # the core's lowering passes express LSTM, L2 normalisation, Pow, HardSigmoid … in
    # ops that have TFLite builtins (the same graph the quantizer works on)
    from edgeq.sdk import lower_quantized as lower

    lowered = lower(graph)
    return _serialize(lowered, graph, fp16=precision == "fp16",
                      description=f"edgeq {precision} model", info=_info(metadata, precision=precision,
                                                                        io_dtype="float32"))
