"""Run one quantized graph three ways - edgeq's integer simulator, LiteRT's reference
kernels (BUILTIN_REF) and LiteRT's default kernels (XNNPACK) - on the same integer
inputs, and a float reference on the dequantized graph.

The .tflite is emitted with int8 I/O so both sides see the same integers at the
boundary; inputs are quantized from float feeds with the graph's own input
quantization. Results are integer arrays in the source (NCHW) layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.sdk import Graph, Node, Tensor

from edgeq_tflite.emit.export import Export, export_quantized


@dataclass
class Runs:
    export: Export
    int_feeds: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]  # LiteRT BUILTIN_REF
    xnnpack: dict[str, np.ndarray]  # LiteRT default kernels
    out_quant: dict


def integer_feeds(graph: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Quantize float feeds with the graph's boundary Quantize output params."""
    consumers = graph.consumers()
    out = {}
    for name, value in feeds.items():
        t = graph.tensors[name]
        if t.dtype.kind != "f":
            out[name] = value
            continue
        (q,) = consumers[name]
        assert q.op_type == "Quantize"
        out[name] = graph.tensors[q.outputs[0]].quant.quantize(value)
    return out


def file_layout(spec, value) -> np.ndarray:
    """``value`` (source layout, NC…) as the .tflite input ``spec`` takes it."""
    v = np.asarray(value)
    if spec.layout and spec.layout not in ("NCW", "NCHW", "NCDHW"):
        letters = "NC" + "DHW"[3 - (v.ndim - 2):]
        v = np.transpose(v, [letters.index(c) for c in spec.layout])
    return np.ascontiguousarray(v.astype(spec.dtype))


def litert(model: bytes, feeds: dict, inputs, outputs, *, reference: bool) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    it = Interpreter(model_content=model, num_threads=1, **kw)
    it.allocate_tensors()
    idx = {d["name"]: d["index"] for d in it.get_input_details()}
    for spec in inputs:
        it.set_tensor(idx[spec.name], file_layout(spec, feeds[spec.name]))
    it.invoke()
    odx = {d["name"]: d["index"] for d in it.get_output_details()}
    return {spec.name: it.get_tensor(odx[spec.name]).copy() for spec in outputs}


def run_all(graph: Graph, feeds: dict[str, np.ndarray]) -> Runs:
    exp = export_quantized(graph, io_dtype="int8")
    ints = integer_feeds(graph, feeds)
    ref = litert(exp.model, ints, exp.inputs, exp.outputs, reference=True)
    xnn = litert(exp.model, ints, exp.inputs, exp.outputs, reference=False)
    return Runs(exp, ints, ref, xnn, {s.name: s.quant for s in exp.outputs})


def simulate(graph: Graph, int_feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from edgeq.sdk import run_quantized

    return run_quantized(graph, int_feeds, integer_io=True)


def dequantized_graph(graph: Graph) -> Graph:
    """The float graph a quantized graph approximates: constants dequantized, every
    tensor float32, Quantize/Dequantize as Identity."""
    g = graph.copy()
    for name, t in list(g.tensors.items()):
        data = t.data
        if data is not None and t.quant is not None:
            data = t.quant.dequantize(data)
        dtype = np.float32 if (t.quant is not None or t.dtype.kind == "f") else t.dtype
        g.tensors[name] = Tensor(name, dtype, t.shape, data if data is None or dtype != np.float32
                                 else np.asarray(data, np.float32), None)
    from edgeq.sdk import executable

    g.nodes = [Node(n.name, "Identity" if n.op_type in ("Quantize", "Dequantize") else n.op_type,
                    n.inputs, n.outputs, dict(n.attrs)) for n in g.nodes]
    # Rsqrt / SquaredDifference in ONNX ops, so the float interpreter runs them
    return executable(g)


def float_reference(graph: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from edgeq.sdk import run_graph

    fg = dequantized_graph(graph)
    # feed the dequantized integer inputs, so only the op's own rounding is compared
    deq = {}
    for name, v in integer_feeds(graph, feeds).items():
        q = graph.consumers()[name][0] if graph.tensors[name].dtype.kind == "f" else None
        qt = graph.tensors[q.outputs[0]].quant if q is not None else graph.tensors[name].quant
        deq[name] = qt.dequantize(v) if qt is not None else v
    return run_graph(fg, deq)
