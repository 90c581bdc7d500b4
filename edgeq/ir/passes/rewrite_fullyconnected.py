"""Rewrite Gemm and MatMul with a constant weight as the canonical ``FullyConnected``
(``Y = X · Wᵀ + B`` over the last axis, W ``[out, in]``; :mod:`edgeq.ir.ops`).

Contract:

* ``Gemm(A, B, C?; alpha, beta, transA=0, transB)`` with constant B, and C absent or
  a constant that varies at most along the output axis → ``FullyConnected(A, W, b)``
  with ``W = alpha · (B if transB else Bᵀ)`` and ``b = beta · C`` (broadcast to
  ``[out]``). Gemm with transA=1 or a non-constant B/C is left alone.
* ``MatMul(X, W)`` with a constant 2-D W → ``FullyConnected(X, Wᵀ)``; a following
  ``Add`` of a constant bias (varying only along the last axis, X·W read only by the
  Add, no broadcasting to a bigger shape) becomes its bias
  (:func:`.fold_bias.absorb_add`).

Weights are computed in float64 and stored in the weight's dtype.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node
from edgeq.ir.ops import FULLY_CONNECTED
from edgeq.ir.passes._match import Uses
from edgeq.ir.passes.fold_bias import absorb_add, channel_vector


def _from_gemm(graph: Graph, node: Node) -> bool:
    a = node.attrs
    b = graph.const(node.inputs[1])
    if a.get("transA", 0) or b is None or b.ndim != 2 or b.dtype.kind != "f":
        return False
    w = b if a.get("transB", 0) else b.T
    w = (float(a.get("alpha", 1.0)) * w.astype(np.float64)).astype(b.dtype)
    bias = None
    if len(node.inputs) > 2 and node.inputs[2]:
        c = channel_vector(graph, node.inputs[2], graph.tensors[node.outputs[0]].shape, -1)
        if c is None:
            return False
        bias = (float(a.get("beta", 1.0)) * c).astype(b.dtype)
    inputs = [node.inputs[0], graph.add_constant(f"{node.name}_weight", w)]
    if bias is not None:
        inputs.append(graph.add_constant(f"{node.name}_bias", bias))
    _become_fc(node, inputs)
    return True


def _from_matmul(graph: Graph, node: Node) -> bool:
    w = graph.const(node.inputs[1])
    if w is None or w.ndim != 2 or w.dtype.kind != "f" or graph.is_constant(node.inputs[0]):
        return False
    _become_fc(node, [node.inputs[0], graph.add_constant(f"{node.name}_weight", np.ascontiguousarray(w.T))])
    return True


def _become_fc(node: Node, inputs: list[str]) -> None:
    node.op_type = FULLY_CONNECTED
    node.inputs = inputs
    node.attrs = {}


def run(graph: Graph) -> bool:
    changed = False
    for node in list(graph.nodes):
        if node.domain != "":
            continue
        if node.op_type == "Gemm" and _from_gemm(graph, node):
            changed = True
        elif node.op_type == "MatMul" and _from_matmul(graph, node):
            changed = True
    uses = Uses(graph)
    for node in [n for n in graph.nodes if n.op_type == FULLY_CONNECTED and len(n.inputs) < 3]:
        if absorb_add(graph, uses, node):
            changed = True
    if changed:
        graph.remove_unused()
    return changed
