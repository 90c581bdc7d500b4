"""Division by a constant becomes multiplication by its reciprocal.

``Div(x, c)`` with a constant float ``c`` without zeros → ``Mul(x, 1/c)``: TFLite has no
int8 DIV, while MUL by a constant is a plain requantization (kernels/mul.cc). The
reciprocal is computed in float64 and rounded once to float32.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Tensor


def run(graph: Graph) -> bool:
    changed = False
    for node in graph.nodes:
        if node.op_type != "Div" or node.domain or len(node.inputs) != 2:
            continue
        c = graph.const(node.inputs[1])
        if c is None or c.dtype.kind != "f" or np.any(c == 0) or graph.is_constant(node.inputs[0]):
            continue
        name = graph.unique_name(f"{node.inputs[1]}_reciprocal")
        inv = (1.0 / c.astype(np.float64)).astype(np.float32)
        graph.tensors[name] = Tensor(name, inv.dtype, inv.shape, inv)
        node.op_type = "Mul"
        node.inputs = [node.inputs[0], name]
        changed = True
    if changed:
        graph.remove_unused()
    return changed
