"""Pattern-matching helpers shared by the canonicalisation passes.

A rewrite may only absorb an intermediate tensor when nothing else reads it: no other
node and no graph output (:meth:`Uses.private`). Constants matched as scalars must
have exactly one element, and a rewrite must not change an output's shape through
broadcasting (:func:`same_shape`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.ir.graph import Graph, Node


@dataclass
class Uses:
    """Producer/consumer maps of a graph, taken once per pass sweep."""

    graph: Graph

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.producer = self.graph.producers()
        self.consumers = self.graph.consumers()
        self.outputs = set(self.graph.outputs)

    def producer_of(self, name: str, op_type: str | tuple[str, ...] | None = None) -> Node | None:
        node = self.producer.get(name)
        if node is None or op_type is None:
            return node
        types = (op_type,) if isinstance(op_type, str) else op_type
        return node if node.op_type in types and node.domain == "" else None

    def private(self, name: str, n_uses: int = 1) -> bool:
        """``name`` is read by exactly ``n_uses`` node inputs and is not a graph output."""
        readers = {id(n): n for n in self.consumers.get(name, [])}.values()
        uses = sum(inp == name for n in readers for inp in n.inputs)
        return name not in self.outputs and uses == n_uses


def scalar(graph: Graph, name: str) -> float | None:
    """The value of a one-element float constant, else None."""
    value = graph.const(name)
    if value is None or value.size != 1 or value.dtype.kind != "f":
        return None
    return float(value.reshape(()))


def close(value: float | None, target: float, rtol: float = 1e-5) -> bool:
    return value is not None and abs(value - target) <= rtol * max(1.0, abs(target))


def same_shape(graph: Graph, a: str, b: str) -> bool:
    return graph.tensors[a].shape == graph.tensors[b].shape and graph.tensors[a].dtype == graph.tensors[b].dtype


def other_input(node: Node, name: str) -> str | None:
    """For a binary node, the input that is not ``name`` (None if ``name`` is not an input)."""
    if len(node.inputs) != 2 or name not in node.inputs:
        return None
    return node.inputs[1] if node.inputs[0] == name else node.inputs[0]


def const_operand(graph: Graph, node: Node) -> tuple[str, float] | None:
    """For a binary node with one scalar constant operand: (the other input, the scalar)."""
    if len(node.inputs) != 2:
        return None
    for i in (0, 1):
        value = scalar(graph, node.inputs[i])
        if value is not None and not graph.is_constant(node.inputs[1 - i]):
            return node.inputs[1 - i], value
    return None


def product_factors(graph: Graph, uses: Uses, root: Node) -> tuple[list[str], float, list[Node]] | None:
    """Flatten a tree of Mul nodes (and Div by a scalar constant) rooted at ``root``.

    Returns (non-constant factor tensors, product of the scalar constant factors,
    the tree's nodes). Sub-trees are expanded only through tensors private to the
    tree, so a returned node can be removed when the tree is rewritten.
    """
    factors: list[str] = []
    scale = 1.0
    nodes: list[Node] = []

    def visit(node: Node) -> bool:
        nonlocal scale
        nodes.append(node)
        if node.op_type == "Div":
            divisor = scalar(graph, node.inputs[1])
            if divisor is None or divisor == 0.0:
                return False
            scale /= divisor
            operands = [node.inputs[0]]
        else:
            operands = list(node.inputs)
        for name in operands:
            value = scalar(graph, name)
            if value is not None:
                scale *= value
                continue
            child = uses.producer_of(name, ("Mul", "Div"))
            if child is not None and uses.private(name):
                if not visit(child):
                    return False
            else:
                factors.append(name)
        return True

    if root.op_type not in ("Mul", "Div") or not visit(root):
        return None
    return factors, scale, nodes


def rewrite_as(graph: Graph, root: Node, op_type: str, inputs: list[str], attrs: dict | None = None) -> None:
    """Turn ``root`` into ``op_type(inputs)`` keeping its output name; the nodes that fed
    only it become dead and are removed by :meth:`Graph.remove_unused`."""
    root.op_type = op_type
    root.inputs = list(inputs)
    root.attrs = dict(attrs or {})
    root.domain = ""
    graph.remove_unused()


def float_const(graph: Graph, base: str, value, dtype) -> str:
    return graph.add_constant(base, np.asarray(value, dtype=dtype))
