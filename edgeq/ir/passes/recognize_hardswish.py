"""Recognise decomposed hard-swish as ONNX ``HardSwish(x)``
(``x · max(0, min(1, x/6 + 1/2))``, ONNX HardSwish-14).

Contract: a product (tree of Mul, Div by constants) of exactly ``x`` and a unit clamp
of ``x`` (see :func:`.recognize_hardsigmoid.unit_clamp`) whose overall factor is 1
and whose clamp is ``clamp(x/6 + 1/2, 0, 1)`` becomes one HardSwish node writing the
root's output. That covers ``x · HardSigmoid(x; 1/6, 1/2)``, ``x · relu6(x + 3) / 6``
and ``x · (relu6(x + 3) / 6)`` (MobileNetV3 / PyTorch ``hardswish``). A hard-sigmoid
with another slope (PaddlePaddle's 0.2) is *not* HardSwish and is left alone.
Intermediates must be read only by the pattern and the output must have x's shape.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses, close, product_factors, rewrite_as, same_shape
from edgeq.ir.passes.recognize_hardsigmoid import unit_clamp


def _match(graph: Graph, uses: Uses, root: Node) -> str | None:
    tree = product_factors(graph, uses, root)
    if tree is None or len(tree[0]) != 2:
        return None
    factors, scale, _ = tree
    for x, gate in (factors, factors[::-1]):
        if not uses.private(gate):
            continue
        found = unit_clamp(graph, uses, gate)
        if (found is not None and found.x == x and close(scale * found.m, 1.0)
                and close(found.alpha, 1.0 / 6.0) and close(found.beta, 0.5)):
            return x
    return None


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for root in [n for n in graph.nodes if n.op_type in ("Mul", "Div") and n.domain == ""]:
        if root not in graph.nodes:
            continue
        x = _match(graph, uses, root)
        if x is None or not same_shape(graph, x, root.outputs[0]):
            continue
        rewrite_as(graph, root, "HardSwish", [x])
        changed = True
        uses.refresh()
    return changed
