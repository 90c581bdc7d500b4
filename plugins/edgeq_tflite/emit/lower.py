"""Lower an NHWC edgeq graph (quantized or float) into a :class:`ModelWriter`.

:func:`lower_graph` walks the (topologically ordered) nodes and calls each op's
lowering (``edgeq_tflite.emit.lowering``). Failures are collected over the whole graph
and raised as one :class:`~edgeq.errors.UnsupportedOpError` listing every node, so a
user sees all the problems of a model at once. :func:`dry_run` does the same without
keeping buffers, for ``Target.check``.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.sdk import Graph, Node, Tensor, UnsupportedOpError

from edgeq_tflite.emit.schema import BuiltinOperator as B
from edgeq_tflite.emit.versions import op_version
from edgeq_tflite.emit.writer import ModelWriter, TensorInfo

logger = logging.getLogger(__name__)


class LowerContext:
    """What a lowering sees: the IR graph, and the writer's tensors by IR name."""

    def __init__(self, graph: Graph, writer: ModelWriter, *, fp16_weights: bool = False) -> None:
        self.graph = graph
        self.writer = writer
        self.fp16_weights = fp16_weights
        self._alias: dict[str, TensorInfo] = {}

    # -- IR queries --------------------------------------------------------------
    def ir(self, name: str) -> Tensor:
        return self.graph.tensors[name]

    def const(self, name: str) -> np.ndarray | None:
        return self.graph.const(name) if name else None

    def real_const(self, name: str) -> np.ndarray | None:
        """A constant's real value (dequantized when it carries quant params)."""
        t = self.graph.tensors.get(name) if name else None
        if t is None or t.data is None:
            return None
        return t.quant.dequantize(t.data) if t.quant is not None else np.asarray(t.data)

    def quantized(self, name: str) -> bool:
        return self.ir(name).quant is not None and self.ir(name).dtype.kind in "iu"

    # -- tensors -----------------------------------------------------------------
    def tensor(self, name: str) -> TensorInfo:
        """The emitted tensor for IR tensor ``name`` (emitted now if needed)."""
        if name in self._alias:
            return self._alias[name]
        if self.writer.has_tensor(name):
            return self.writer.tensor(name)
        t = self.ir(name)
        if t.data is None:
            return self.writer.add_tensor(name, t.dtype, t.shape, quant=t.quant)
        if self.fp16_weights and t.dtype == np.float32 and t.data.size > 1:
            # float16 weights + DEQUANTIZE, as the converter's float16 post-training
            # quantization does; the GPU delegate consumes the fp16 buffer directly
            half = self.writer.add_tensor(self.writer.unique_name(f"{name}_fp16"), np.float16, t.shape,
                                          data=t.data.astype(np.float16))
            out = self.writer.add_tensor(name, np.float32, t.shape)
            self.op(B.DEQUANTIZE, [half], [out])
            return out
        return self.writer.add_tensor(name, t.dtype, t.shape, quant=t.quant, data=t.data)

    def alias(self, name: str, info: TensorInfo) -> None:
        """Make IR tensor ``name`` refer to an already emitted tensor (no op)."""
        self._alias[name] = info

    def new(self, base: str, dtype, shape, quant=None) -> TensorInfo:
        """A fresh intermediate activation tensor."""
        return self.writer.add_tensor(self.writer.unique_name(base), dtype, shape, quant=quant)

    def constant(self, base: str, data, quant=None) -> TensorInfo:
        return self.writer.add_constant(base, np.asarray(data), quant=quant)

    def int32_vector(self, base: str, values) -> TensorInfo:
        return self.constant(base, np.asarray(list(values), np.int32).reshape(-1))

    # -- operators ---------------------------------------------------------------
    def op(self, builtin: int, inputs: list, outputs: list, options=None) -> None:
        """Emit an operator; its version follows the converter's rules (versions.py)."""
        version = op_version(builtin, inputs, outputs, options)
        self.writer.add_operator(builtin, [-1 if t is None else t.index for t in inputs],
                                 [t.index for t in outputs], options=options, version=version)

    def unsupported(self, node: Node, why: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {why}",
                                  op_type=node.op_type, nodes=[node.name])


def lower_graph(graph: Graph, writer: ModelWriter, *, fp16_weights: bool = False) -> LowerContext:
    """Emit every node of ``graph``; raise one UnsupportedOpError listing all failures."""
    from edgeq_tflite.emit.lowering import lookup

    ctx = LowerContext(graph, writer, fp16_weights=fp16_weights)
    writer.inputs = [ctx.tensor(n).index for n in graph.inputs]
    failures: list[UnsupportedOpError] = []
    for node in graph.nodes:
        try:
            lookup(node)(ctx, node)
        except UnsupportedOpError as exc:
            failures.append(exc)
    if failures:
        raise combine_failures(failures)
    writer.outputs = [ctx.tensor(n).index for n in graph.outputs]
    return ctx


def combine_failures(failures: list[UnsupportedOpError]) -> UnsupportedOpError:
    nodes = [n for f in failures for n in f.nodes]
    lines = "\n".join(f"  - {f}" for f in failures)
    return UnsupportedOpError(
        f"{len(nodes)} node(s) cannot be emitted for TFLite:\n{lines}\n"
        "Change the model, quantize these nodes differently, or allow float fallback in the "
        "target profile (tflite: allow_float_fallback: true) where TFLite has float kernels.",
        op_type=failures[0].op_type, nodes=nodes)


def dry_run(graph: Graph, *, fp16_weights: bool = False) -> dict[str, str]:
    """node name -> "" if it lowers, else the reason it does not (no model is kept)."""
    from edgeq_tflite.emit.lowering import lookup

    result: dict[str, str] = {}
    writer = ModelWriter()
    ctx = LowerContext(graph, writer, fp16_weights=fp16_weights)
    for name in graph.inputs:
        ctx.tensor(name)
    for node in graph.nodes:
        try:
            lookup(node)(ctx, node)
            result[node.name] = ""
        except UnsupportedOpError as exc:
            result[node.name] = str(exc)
            for out in node.outputs:  # let later nodes still find their inputs
                if out and not writer.has_tensor(out) and out not in ctx._alias:
                    ctx.tensor(out)
    return result
