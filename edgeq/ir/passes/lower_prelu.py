"""``PRelu(x, slope)`` (ONNX PRelu-16) as ``Add(Relu(x), Mul(Min(x, 0), slope))``.

TFLite has an int8 PRELU, but its arithmetic (two multipliers, one for each sign) is
not in edgeq's simulator; the decomposition uses four ops whose integer kernels are
(RELU, MINIMUM against the zero point, MUL by the constant slope, ADD). In float the
two forms are equal: for ``x >= 0`` the second term is 0, for ``x < 0`` the first.
A LeakyRelu-like scalar slope becomes LeakyRelu (one op, LEAKY_RELU).
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "PRelu" and not n.domain]:
        x, slope_name = node.inputs[0], node.inputs[1]
        slope = graph.const(slope_name)
        if slope is None or graph.tensors[x].dtype.kind != "f":
            continue
        shape = graph.tensors[x].shape
        out = node.outputs[0]
        em = Emitter(graph, node.name)
        if slope.size == 1:
            em.node("LeakyRelu", [x], shape, "leaky", output=out, alpha=float(slope.reshape(-1)[0]))
        else:
            pos = em.node("Relu", [x], shape, "positive")
            neg = em.node("Min", [x, em.const("zero", np.float32(0.0))], shape, "negative")
            scaled = em.node("Mul", [neg, slope_name], shape, "scaled")
            em.node("Add", [pos, scaled], shape, "prelu", output=out)
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    return changed
