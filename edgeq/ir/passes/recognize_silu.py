"""Recognise ``x · Sigmoid(x)`` as the canonical ``Silu(x)`` (SiLU / Swish-1).

Contract: a product (tree of Mul) of exactly ``x`` and ``Sigmoid(x)`` with overall
constant factor 1, where the Sigmoid output is read only by the product and the
result has x's shape, becomes one ``Silu`` node (:mod:`edgeq.ir.ops`) writing the
root's output.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.ops import SILU
from edgeq.ir.passes._match import Uses, close, product_factors, rewrite_as, same_shape


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for root in [n for n in graph.nodes if n.op_type in ("Mul", "Div") and n.domain == ""]:
        if root not in graph.nodes:
            continue
        tree = product_factors(graph, uses, root)
        if tree is None or len(tree[0]) != 2 or not close(tree[1], 1.0):
            continue
        for x, gate in (tree[0], tree[0][::-1]):
            sigmoid = uses.producer_of(gate, "Sigmoid")
            if (sigmoid is not None and sigmoid.inputs[0] == x and uses.private(gate)
                    and same_shape(graph, x, root.outputs[0])):
                rewrite_as(graph, root, SILU, [x])
                changed = True
                uses.refresh()
                break
    return changed
