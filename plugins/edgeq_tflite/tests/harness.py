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

from edgeq.sdk import Graph
from edgeq.testing import conformance
from edgeq.testing.conformance import integer_feeds

from edgeq_tflite.emit.export import Export, export_quantized


@dataclass
class Runs:
    export: Export
    int_feeds: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]  # LiteRT BUILTIN_REF
    xnnpack: dict[str, np.ndarray]  # LiteRT default kernels
    out_quant: dict


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
    return conformance.simulate(graph, int_feeds)


def float_reference(graph: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return conformance.float_reference(graph, feeds)
