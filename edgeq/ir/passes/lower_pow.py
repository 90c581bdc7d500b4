"""Integer powers become products: ``Pow(x, 2)`` → ``Mul(x, x)``, ``Pow(x, 0.5)`` →
``Sqrt(x)`` and ``Pow(x, 1)`` → ``x`` (TFLite has no integer POW; the converter emits
MUL/SQUARE for ``x**2``)."""

from __future__ import annotations

from edgeq.ir.graph import Graph


def run(graph: Graph) -> bool:
    changed = False
    for node in list(graph.nodes):
        if node.op_type != "Pow" or node.domain:
            continue
        e = graph.const(node.inputs[1])
        if e is None or e.size != 1:
            continue
        e = float(e.reshape(()))
        x = node.inputs[0]
        if e == 2.0:
            node.op_type, node.inputs = "Mul", [x, x]
        elif e == 0.5:
            node.op_type, node.inputs = "Sqrt", [x]
        elif e == 1.0:
            node.op_type, node.inputs = "Identity", [x]
        else:
            continue
        changed = True
    if changed:
        graph.remove_unused()
    return changed
