"""Recognise decomposed GELU as the canonical ``Gelu(x; approximate)``
(ONNX Gelu-20 semantics, :mod:`edgeq.ir.ops`).

Contract: a product (tree of Mul / Div by constants) of exactly ``x`` and
``1 + f`` with overall constant factor 1/2, where

* erf form (``approximate="none"``): ``f = Erf(x / √2)`` (or ``Erf(x · 0.7071…)``),
  as exported from ``torch.nn.functional.gelu`` / BERT;
* tanh form (``approximate="tanh"``): ``f = Tanh(√(2/π) · (x + 0.044715 · x³))`` with
  ``x³`` as ``Pow(x, 3)`` or ``x·x·x``, or the equivalent
  ``Tanh(√(2/π) · x · (1 + 0.044715 · x²))`` (HF ``gelu_new`` / ``gelu_fast``),

becomes one Gelu node writing the root's output. An ONNX ``Gelu`` op gets its
``approximate`` attribute made explicit. Intermediates must be read only by the
pattern, constants must be scalars, and the result must have x's shape.
"""

from __future__ import annotations

import math

from edgeq.ir.graph import Graph
from edgeq.ir.ops import GELU
from edgeq.ir.passes._match import Uses, close, const_operand, product_factors, rewrite_as, same_shape, scalar

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_COEFF = 0.044715


def _one_plus(graph: Graph, uses: Uses, name: str) -> str | None:
    """``name = 1 + f`` (private Add): returns f."""
    add = uses.producer_of(name, "Add")
    if add is None or not uses.private(name):
        return None
    operand = const_operand(graph, add)
    return operand[0] if operand is not None and close(operand[1], 1.0) else None


def _scaled(graph: Graph, uses: Uses, name: str) -> tuple[list[str], float] | None:
    """``name`` as a private product: (non-constant factors, constant factor)."""
    node = uses.producer_of(name, ("Mul", "Div"))
    if node is None or not uses.private(name):
        return None
    tree = product_factors(graph, uses, node)
    return None if tree is None else (tree[0], tree[1])


def _is_power(graph: Graph, uses: Uses, factors: list[str], x: str, n: int) -> bool:
    """``factors`` multiply to ``x**n`` (x repeated, Pow(x, n), or Mul(x, x) leaves)."""
    total = 0
    for f in factors:
        if f == x:
            total += 1
            continue
        pow_node = uses.producer_of(f, "Pow")
        if pow_node is not None and pow_node.inputs[0] == x and uses.private(f):
            exponent = scalar(graph, pow_node.inputs[1])
            if exponent is None or exponent != round(exponent):
                return False
            total += int(exponent)
            continue
        return False
    return total == n


def _erf_arg_is(graph: Graph, uses: Uses, f: str, x: str) -> bool:
    erf = uses.producer_of(f, "Erf")
    if erf is None or not uses.private(f):
        return False
    scaled = _scaled(graph, uses, erf.inputs[0])
    return scaled is not None and scaled[0] == [x] and close(scaled[1], 1.0 / math.sqrt(2.0))


def _tanh_arg_is(graph: Graph, uses: Uses, f: str, x: str) -> bool:
    tanh = uses.producer_of(f, "Tanh")
    if tanh is None or not uses.private(f):
        return False
    scaled = _scaled(graph, uses, tanh.inputs[0])
    if scaled is None or not close(scaled[1], _SQRT_2_OVER_PI, rtol=1e-4):
        return False
    factors = scaled[0]
    if len(factors) == 1:  # √(2/π) · (x + c·x³)
        add = uses.producer_of(factors[0], "Add")
        if add is None or not uses.private(factors[0]) or x not in add.inputs:
            return False
        cubic = _scaled(graph, uses, add.inputs[1] if add.inputs[0] == x else add.inputs[0])
        return cubic is not None and close(cubic[1], _COEFF, 1e-4) and _is_power(graph, uses, cubic[0], x, 3)
    if len(factors) == 2 and x in factors:  # √(2/π) · x · (1 + c·x²)
        rest = factors[1] if factors[0] == x else factors[0]
        inner = _one_plus(graph, uses, rest)
        square = _scaled(graph, uses, inner) if inner else None
        return square is not None and close(square[1], _COEFF, 1e-4) and _is_power(graph, uses, square[0], x, 2)
    return False


def run(graph: Graph) -> bool:
    changed = False
    for node in graph.nodes:
        if node.op_type == GELU and node.domain == "" and "approximate" not in node.attrs:
            node.attrs["approximate"] = "none"  # ONNX Gelu-20 default, made explicit
            changed = True
    uses = Uses(graph)
    for root in [n for n in graph.nodes if n.op_type in ("Mul", "Div") and n.domain == ""]:
        if root not in graph.nodes:
            continue
        tree = product_factors(graph, uses, root)
        if tree is None or len(tree[0]) != 2 or not close(tree[1], 0.5):
            continue
        for x, gate in (tree[0], tree[0][::-1]):
            f = _one_plus(graph, uses, gate)
            if f is None or not same_shape(graph, x, root.outputs[0]):
                continue
            mode = "none" if _erf_arg_is(graph, uses, f, x) else "tanh" if _tanh_arg_is(graph, uses, f, x) else None
            if mode is not None:
                rewrite_as(graph, root, GELU, [x], {"approximate": mode})
                changed = True
                uses.refresh()
                break
    return changed
