"""edgeq QuantizedGraph -> QNN-ready QDQ ONNX model.

Every quantized activation ``t`` of edgeq's graph becomes, in ONNX,
``op -> t__pre -> QuantizeLinear -> t__q -> DequantizeLinear -> t`` with edgeq's own scale
and zero point (shifted to QNN's unsigned storage, :func:`qnn_params`); every quantized
constant is stored as integers with a ``DequantizeLinear`` in front of its reader. ONNX
Runtime's QNN EP groups ``DQ -> op -> Q`` into one quantized QNN op (its "node units"),
so the HTP graph carries exactly edgeq's quantization parameters: no scale is chosen
here, none is re-derived by a converter.

Storage types (QNN SDK: ``real = scale · (q + offset)``, ``offset = −zero_point``):

* int8 activations (asymmetric, edgeq's scheme) -> uint8, ``q + 128``, zero point + 128;
* int16 activations (symmetric) -> uint16, ``q + 32768``, zero point 32768;
* Conv/FullyConnected/MatMul weights stay int8 symmetric (zero point 0): HTP takes
  signed symmetric weights (per channel for Conv, per tensor for its FullyConnected; a
  per-channel FullyConnected is emitted as a 1×1 Conv, emit/lowering/linear.py);
* bias int32, scale ``s_in · s_w[c]`` (a 16x8 int64 bias is narrowed to int32 when it
  fits; HTP has no 64-bit bias).

Lowerings (``edgeq_qnn.emit.lowering``) are registered per IR op type in an
``edgeq.sdk.OpRegistry``; :func:`export_qdq` runs them all and reports every node that
cannot be lowered in one ``UnsupportedOpError``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from edgeq.sdk import (BuildError, Graph, Node, QDType, QuantParams, UnsupportedOpError,
                       calculate_activation_range_quantized)

logger = logging.getLogger(__name__)

#: ONNX opset of the emitted model: 21 has uint16 QuantizeLinear/DequantizeLinear and Gelu
OPSET = 21
#: IR inputs that are weights (int8 symmetric, kept signed): op type -> input index
WEIGHT_INPUTS = {"Conv": 1, "FullyConnected": 1, "MatMul": 1}
#: IR attributes that are edgeq's own (fused clamp, layout hints), never ONNX attributes
EDGEQ_ATTRS = frozenset({"act_min", "act_max", "depthwise", "data_layout"})


def qnn_params(q: QuantParams, *, weight: bool = False) -> tuple[np.ndarray, np.ndarray, np.dtype, int]:
    """``(scale, zero_point, storage dtype, shift)`` of edgeq params in QNN's storage.

    ``shift`` is what is added to edgeq's integers: 128 for int8 activations (uint8),
    32768 for int16 (uint16), 0 for weights, int32 bias and already unsigned tensors.
    """
    if weight or q.dtype in (QDType.INT32, QDType.INT64, QDType.UINT8):
        dtype = {QDType.INT8: np.int8, QDType.UINT8: np.uint8, QDType.INT32: np.int32,
                 QDType.INT64: np.int32}[q.dtype]
        return q.scale.astype(np.float32), q.zero_point.astype(np.int64), np.dtype(dtype), 0
    if q.dtype == QDType.INT8:
        return q.scale.astype(np.float32), q.zero_point + 128, np.dtype(np.uint8), 128
    if q.dtype == QDType.INT16:
        return q.scale.astype(np.float32), q.zero_point + 32768, np.dtype(np.uint16), 32768
    raise BuildError(f"no QNN storage type for {q.dtype.value} quantization")


@dataclass
class QdqModel:
    """The emitted ONNX model and what it contains."""

    model: object  # onnx.ModelProto
    inputs: list[dict]
    outputs: list[dict]
    encodings: dict  # tensor name -> {"dtype", "scale", "offset", "bitwidth", "axis"} (QNN terms)
    op_histogram: dict[str, int] = field(default_factory=dict)


class QdqContext:
    """What a lowering sees: the IR graph, and the ONNX tensors emitted so far.

    ``value(name)`` is the ONNX (float, dequantized) tensor that holds IR tensor
    ``name``'s real value; ``result(name)`` a fresh float tensor an op writes, which
    :meth:`finish` quantizes with ``name``'s params. A lowering calls ``finish`` once
    per output it produces.
    """

    def __init__(self, graph: Graph, output_alias: dict[str, str]) -> None:
        import onnx

        self.onnx = onnx
        self.graph = graph
        self.nodes: list = []
        self.initializers: list = []
        self._values: dict[str, str] = {}
        self._used: set[str] = set(graph.tensors)
        self._output_alias = output_alias  # IR tensor -> graph output name (Dequantize)
        self.encodings: dict[str, dict] = {}
        self._weights = {n.inputs[i] for n in graph.nodes
                         if n.op_type in WEIGHT_INPUTS and len(n.inputs) > WEIGHT_INPUTS[n.op_type]
                         for i in (WEIGHT_INPUTS[n.op_type],)}

    # -- names -------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    # -- IR queries --------------------------------------------------------------
    def ir(self, name: str):
        return self.graph.tensors[name]

    def const(self, name: str) -> np.ndarray | None:
        t = self.graph.tensors.get(name) if name else None
        return None if t is None else t.data

    def unsupported(self, node: Node, why: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {why}",
                                  op_type=node.op_type, nodes=[node.name])

    # -- ONNX emission -------------------------------------------------------------
    def add_node(self, op_type: str, inputs: list[str], outputs: list[str], name: str | None = None,
                 **attrs) -> None:
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outputs,
                                                     name=self.fresh(name or outputs[0]), **attrs))

    def initializer(self, base: str, data: np.ndarray) -> str:
        name = self.fresh(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(data), name))
        return name

    def _qdq_params(self, base: str, scale, zp, dtype) -> tuple[str, str]:
        s = self.initializer(f"{base}__scale", np.asarray(scale, np.float32).reshape(-1)
                             if np.size(scale) > 1 else np.float32(np.ravel(scale)[0]))
        z = np.asarray(zp).astype(dtype)
        z = self.initializer(f"{base}__zp", z.reshape(-1) if z.size > 1 else z.reshape(()))
        return s, z

    def _record(self, name: str, q: QuantParams, scale, zp, dtype) -> None:
        bits = np.dtype(dtype).itemsize * 8
        self.encodings[name] = {"dtype": np.dtype(dtype).name, "bitwidth": bits,
                                "scale": [float(x) for x in np.ravel(scale)],
                                "offset": [int(-z) for z in np.ravel(zp)],
                                "axis": q.axis, "edgeq_zero_point": [int(z) for z in q.zero_point]}

    def value(self, name: str, shape: tuple[int, ...] | None = None) -> str:
        """The ONNX tensor holding IR tensor ``name`` (constants are emitted on first use).

        ``shape`` stores a constant with another shape of the same row-major data (a
        FullyConnected weight ``[out, in]`` as a 1×1 Conv filter ``[out, in, 1, 1]``); its
        quantization axis 0 stays the output channel."""
        key = name if shape is None else (name, tuple(shape))
        if key in self._values:
            return self._values[key]
        t = self.graph.tensors[name]
        if shape is not None and (t.data is None or t.quant is None or
                                  (t.quant.per_channel and t.quant.axis != 0)):
            raise AssertionError(f"only quantized constants with axis 0 are reshaped ('{name}')")
        if t.data is None:
            if name in self.graph.inputs:
                return name
            raise AssertionError(f"tensor '{name}' read before it was produced")  # toposorted graph
        if t.quant is None:
            out = self.initializer(name, t.data)
        else:
            weight = name in self._weights
            scale, zp, dtype, shift = qnn_params(t.quant, weight=weight)
            data = t.data.astype(np.int64) + shift
            if shape is not None:
                data = data.reshape(shape)
            info = np.iinfo(dtype)
            if data.min(initial=0) < info.min or data.max(initial=0) > info.max:
                raise BuildError(f"constant '{name}' does not fit QNN's {np.dtype(dtype).name} "
                                 f"storage (values {data.min()}..{data.max()}); HTP has no "
                                 f"{t.quant.dtype.value} tensors of this kind")
            q_name = self.initializer(f"{name}__q", data.astype(dtype))
            axis = t.quant.axis if t.quant.per_channel else None
            if axis is not None and np.all(scale == scale[0]) and not np.any(zp):
                # a bias of per-tensor weights: HTP reads a per-axis bias encoding with a
                # per-tensor weight wrongly (measured: saturated outputs), so store one scale
                scale, zp, axis = scale[:1], zp[:1], None
            s, z = self._qdq_params(name, scale, zp, dtype)
            out = self.fresh(name)
            self.add_node("DequantizeLinear", [q_name, s, z], [out], axis=axis)
            self._record(name, t.quant, scale, zp, dtype)
        self._values[key] = out
        return out

    def result(self, name: str) -> str:
        """A fresh float tensor for an op to write IR tensor ``name``'s value into."""
        t = self.graph.tensors[name]
        return self.fresh(f"{name}__pre") if t.quant is not None else self._final_name(name)

    def _final_name(self, name: str) -> str:
        final = self._output_alias.get(name, name)
        self._used.add(final)
        return final

    def finish(self, name: str, produced: str) -> str:
        """Quantize ``produced`` (float) with IR tensor ``name``'s params: Q -> DQ."""
        t = self.graph.tensors[name]
        if t.quant is None:
            self._values[name] = produced
            return produced
        if t.quant.per_channel:
            raise BuildError(f"activation '{name}' is quantized per channel; QNN activations "
                             "are per tensor")
        scale, zp, dtype, _ = qnn_params(t.quant)
        s, z = self._qdq_params(name, scale, zp, dtype)
        q = self.fresh(f"{name}__q")
        out = self._final_name(name)
        self.add_node("QuantizeLinear", [produced, s, z], [q])
        self.add_node("DequantizeLinear", [q, s, z], [out])
        self._record(name, t.quant, scale, zp, dtype)
        self._values[name] = out
        return out

    def alias(self, name: str, onnx_name: str) -> None:
        self._values[name] = onnx_name

    # -- fused clamps --------------------------------------------------------------
    def clamp_bounds(self, node: Node, name: str) -> tuple[float | None, float | None]:
        """The real bounds of ``node``'s fused clamp that its output's quantization does
        not already imply (``None`` = no clamp needed on that side).

        The integer kernels clamp at ``CalculateActivationRangeQuantized``'s bounds
        (docs/quantization.md); a bound equal to the storage limit is the saturation of
        the QuantizeLinear itself. A bound inside the range is returned as the exact real
        value of its integer, so HTP's clamp lands on the same integer.
        """
        lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
        if lo is None and hi is None:
            return None, None
        q = self.graph.tensors[name].quant
        if q is None:
            return (None if lo is None or not math.isfinite(lo) else float(lo),
                    None if hi is None or not math.isfinite(hi) else float(hi))
        qmin, qmax = q.dtype.qmin, q.dtype.qmax
        qlo, qhi = calculate_activation_range_quantized(lo, hi, float(q.scale[0]), int(q.zero_point[0]),
                                                        qmin, qmax)
        s, z = float(q.scale[0]), int(q.zero_point[0])
        return (None if qlo == qmin else float(np.float32(s * (qlo - z))),
                None if qhi == qmax else float(np.float32(s * (qhi - z))))

    def write(self, node: Node, name: str, produced: str) -> str:
        """:meth:`finish` plus the node's fused clamp where the quantization does not imply it:
        op -> Q/DQ -> Clip -> Q/DQ, the Clip with equal input and output params."""
        lo, hi = self.clamp_bounds(node, name)
        if lo is None and hi is None:
            return self.finish(name, produced)
        t = self.graph.tensors[name]
        if t.quant is None:
            out = self._final_name(name)
            self._clip(produced, out, lo, hi)
            self._values[name] = out
            return out
        scale, zp, dtype, _ = qnn_params(t.quant)
        s, z = self._qdq_params(f"{name}__unclamped", scale, zp, dtype)
        q = self.fresh(f"{name}__unclamped_q")
        mid = self.fresh(f"{name}__unclamped")
        self.add_node("QuantizeLinear", [produced, s, z], [q])
        self.add_node("DequantizeLinear", [q, s, z], [mid])
        clipped = self.fresh(f"{name}__pre")
        self._clip(mid, clipped, lo, hi)
        return self.finish(name, clipped)

    def _clip(self, x: str, out: str, lo, hi) -> None:
        if lo == 0.0 and hi is None:
            self.add_node("Relu", [x], [out])
            return
        lo_name = self.initializer(f"{out}__min", np.float32(-np.inf if lo is None else lo))
        hi_name = self.initializer(f"{out}__max", np.float32(np.inf if hi is None else hi))
        self.add_node("Clip", [x, lo_name, hi_name], [out])


def _io(graph: Graph, names: list[str]) -> list:
    import onnx

    out = []
    for n in names:
        t = graph.tensors[n]
        out.append(onnx.helper.make_tensor_value_info(
            n, onnx.helper.np_dtype_to_tensor_dtype(t.dtype), list(t.shape)))
    return out


def export_qdq(graph: Graph, *, name: str = "edgeq") -> QdqModel:
    """A QuantizedGraph (float I/O, docs/quantization.md) to a QDQ ONNX model."""
    import onnx

    from edgeq.sdk import lower_quantized
    from edgeq_qnn.emit.lowering import lookup

    g = lower_quantized(graph)
    producers = g.producers()
    alias = {}
    for out in g.outputs:
        p = producers.get(out)
        if p is not None and p.op_type == "Dequantize":
            alias[p.inputs[0]] = out
    ctx = QdqContext(g, alias)
    failures: list[UnsupportedOpError] = []
    for node in g.nodes:
        try:
            lookup(node)(ctx, node)
        except UnsupportedOpError as exc:
            failures.append(exc)
            for out in node.outputs:  # later nodes still find their inputs
                if out:
                    ctx.alias(out, ctx.fresh(f"{out}__unsupported"))
    if failures:
        nodes = [n for f in failures for n in f.nodes]
        lines = "\n".join(f"  - {f}" for f in failures)
        raise UnsupportedOpError(
            f"{len(nodes)} node(s) cannot be emitted for QNN HTP:\n{lines}\n"
            "Change the model or quantize these nodes with the QNN target's spec.",
            op_type=failures[0].op_type, nodes=nodes)
    for out in g.outputs:
        if ctx.value(out) != out:
            ctx.add_node("Identity", [ctx.value(out)], [out])
    onnx_graph = onnx.helper.make_graph(ctx.nodes, name, _io(g, g.inputs), _io(g, g.outputs),
                                        initializer=ctx.initializers)
    model = onnx.helper.make_model(onnx_graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="edgeq")
    model.ir_version = 10
    onnx.checker.check_model(model)
    hist: dict[str, int] = {}
    for n in ctx.nodes:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1
    spec = lambda names: [{"name": n, "shape": list(g.tensors[n].shape),  # noqa: E731
                           "dtype": g.tensors[n].dtype.name} for n in names]
    return QdqModel(model, spec(g.inputs), spec(g.outputs), ctx.encodings, hist)
