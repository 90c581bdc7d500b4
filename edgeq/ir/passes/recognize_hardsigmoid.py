"""Recognise decomposed hard-sigmoids as ONNX ``HardSigmoid(x; alpha, beta)``
(``max(0, min(1, alpha·x + beta))``, ONNX HardSigmoid-6).

Contract: these forms (any order of commutative operands, ``Mul`` by ``1/k`` or
``Div`` by ``k``) become one HardSigmoid node writing the root's output:

* ``Clip(x + c, 0, k) · s`` with ``k·s = 1`` (e.g. PyTorch ``relu6(x + 3) / 6``)
  → alpha = s, beta = c·s;
* ``Clip(a·x + b, 0, 1)`` → alpha = a, beta = b.

``x + c`` may also be ``x - c`` or ``a·x + b``. Every intermediate must be read only by
the pattern, the constants must be scalars and the result must have x's shape (no
broadcasting). :func:`unit_clamp` is shared with :mod:`.recognize_hardswish`.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses, close, const_operand, product_factors, rewrite_as, same_shape


@dataclass
class UnitClamp:
    """``tensor = m · clamp(a·x + b, 0, 1)``."""

    x: str
    alpha: float
    beta: float
    m: float


def affine(graph: Graph, uses: Uses, name: str) -> tuple[str, float, float] | None:
    """``name = a·x + b`` via private Add/Sub(/Mul) nodes with b ≠ 0: (x, a, b)."""
    node = uses.producer_of(name, ("Add", "Sub"))
    if node is None:
        return None
    operand = const_operand(graph, node)
    if operand is None:
        return None
    inner, b = operand
    if node.op_type == "Sub":
        if node.inputs[0] != inner:
            return None  # c - x: not an increasing affine map of x
        b = -b
    a = 1.0
    mul = uses.producer_of(inner, "Mul")
    if mul is not None and uses.private(inner):
        scaled = const_operand(graph, mul)
        if scaled is not None:
            inner, a = scaled
    return (inner, a, b) if b != 0.0 and a > 0.0 else None


def unit_clamp(graph: Graph, uses: Uses, name: str) -> UnitClamp | None:
    """Describe tensor ``name`` as ``m · clamp(a·x + b, 0, 1)`` (HardSigmoid node or
    ``Clip(affine(x), 0, k)``), with every intermediate private; else None."""
    node = uses.producer_of(name, ("HardSigmoid", "Clip"))
    if node is None:
        return None
    if node.op_type == "HardSigmoid":
        return UnitClamp(node.inputs[0], float(node.attrs.get("alpha", 0.2)),
                         float(node.attrs.get("beta", 0.5)), 1.0)
    from edgeq.ir.passes.fuse_activation import clamp_bounds

    bounds = clamp_bounds(graph, node)
    if bounds is None or bounds[0] != 0.0 or not 0.0 < bounds[1] < float("inf"):
        return None
    if not uses.private(node.inputs[0]):
        return None
    found = affine(graph, uses, node.inputs[0])
    if found is None:
        return None
    x, a, b = found
    k = bounds[1]
    # clamp(a·x + b, 0, k) = k · clamp((a/k)·x + b/k, 0, 1)
    return UnitClamp(x, a / k, b / k, k)


def _match(graph: Graph, uses: Uses, root: Node) -> tuple[str, float, float] | None:
    if root.op_type == "Clip":
        found = unit_clamp(graph, uses, root.outputs[0])
        if found is not None and close(found.m, 1.0) and uses.producer_of(root.inputs[0], ("Add", "Sub")):
            return found.x, found.alpha, found.beta
        return None
    tree = product_factors(graph, uses, root)
    if tree is None or len(tree[0]) != 1:
        return None
    (factor,), scale, _ = tree
    if not uses.private(factor):
        return None
    found = unit_clamp(graph, uses, factor)
    if found is None or uses.producer_of(factor, "HardSigmoid") or not close(scale * found.m, 1.0):
        return None
    return found.x, found.alpha, found.beta


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for root in [n for n in graph.nodes if n.op_type in ("Mul", "Div", "Clip") and n.domain == ""]:
        if root not in graph.nodes:
            continue  # absorbed by an earlier rewrite
        found = _match(graph, uses, root)
        if found is None or not same_shape(graph, found[0], root.outputs[0]):
            continue
        x, alpha, beta = found
        rewrite_as(graph, root, "HardSigmoid", [x], {"alpha": alpha, "beta": beta})
        changed = True
        uses.refresh()
    return changed
