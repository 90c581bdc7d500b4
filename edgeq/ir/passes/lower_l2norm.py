"""L2 normalisation (and the scale factors it makes irrelevant) in integer-friendly ops.

``y = a / max(||a||_2, eps)`` (ReduceL2 over one axis, keepdims, optional Max or
``Clip(min=eps)`` by a tiny eps, optional Expand back to ``a``'s shape — torch's
``F.normalize`` as exported by torch.onnx — Div) becomes ``y = a · rsqrt(mean(a·a)) · n^-1/2`` with ``n`` the reduced
size: MUL, MEAN, RSQRT, MUL, MUL, all with integer kernels (TFLite's float-free
formulation; eps only guards a zero vector, for which integer RSQRT saturates and the
product is 0 as well).

Because ``y`` does not change when ``a`` is scaled by a positive per-row factor, the
producer of ``a`` is simplified when nothing else reads it:

* ``a = Div(s, c)`` with ``c = Max(..., eps > 0)`` or ``Clip(..., min=eps > 0)``
  (positive): ``a ← s``
  (mean pooling's division by the token count);
* ``a = ReduceSum(v, axes)``: ``a ← ReduceMean(v, axes)`` (same direction, smaller
  range for int8).
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def _positive(graph: Graph, name: str, producers) -> bool:
    """``name`` is ``Max(v, eps)`` or ``Clip(v, min=eps)`` with a constant ``eps > 0``."""
    node = producers.get(name)
    if node is None:
        return False
    if node.op_type == "Max":
        return any((c := graph.const(i)) is not None and c.size == 1 and float(c.reshape(())) > 0
                   for i in node.inputs)
    if node.op_type == "Clip":
        lo = graph.const(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
        if lo is None and "min" in node.attrs:
            lo = np.asarray(node.attrs["min"])
        return lo is not None and lo.size == 1 and float(lo.reshape(())) > 0
    return False



def _norm_pattern(graph: Graph, div, producers, consumers):
    """``div = Div(a, d)`` with ``d = [Max](ReduceL2(a))``: returns (a, [dead nodes], axis)."""
    if div.op_type != "Div" or len(div.inputs) != 2:
        return None
    a, d = div.inputs
    dead = []
    node = producers.get(d)
    if node is not None and node.op_type == "Expand" and graph.is_constant(node.inputs[1]):
        if len(consumers.get(d, [])) != 1:
            return None
        dead.append(node)  # Div broadcasts the per-row norm itself
        d = node.inputs[0]
        node = producers.get(d)
    if node is not None and node.op_type in ("Max", "Clip"):
        if not _positive(graph, d, producers) or len(consumers.get(d, [])) != 1:
            return None
        dead.append(node)
        d = next(i for i in node.inputs if i and not graph.is_constant(i))
        node = producers.get(d)
    if node is None or node.op_type != "ReduceL2" or node.inputs[0] != a:
        return None
    axes = node.attr("axes")
    if axes is None and len(node.inputs) > 1:
        axes = graph.const(node.inputs[1])
    if axes is None or len(np.ravel(axes)) != 1 or not int(node.attr("keepdims", 1)):
        return None
    dead.append(node)
    rank = len(graph.tensors[a].shape)
    return a, dead, int(np.ravel(axes)[0]) % rank


def _simplify_source(graph: Graph, a: str, producers, consumers) -> str:
    """Drop positive per-row factors in front of a normalisation (see module docstring)."""
    while True:
        node = producers.get(a)
        # read only by the two new nodes Mul(a, a) and Mul(a, r)
        private = len({id(n) for n in consumers.get(a, [])}) == 2 and a not in graph.outputs
        if node is None or not private:
            return a
        if node.op_type == "Div" and _positive(graph, node.inputs[1], producers):
            graph.replace_uses(a, node.inputs[0])
            a = node.inputs[0]
            graph.remove_unused()
        elif node.op_type == "ReduceSum":
            node.op_type = "ReduceMean"
            return a
        else:
            return a
        producers, consumers = graph.producers(), graph.consumers()


def run(graph: Graph) -> bool:
    changed = False
    for div in [n for n in graph.nodes if n.op_type == "Div"]:
        producers, consumers = graph.producers(), graph.consumers()
        found = _norm_pattern(graph, div, producers, consumers)
        if found is None:
            continue
        a, dead, axis = found
        shape = graph.tensors[a].shape
        rshape = tuple(1 if i == axis else s for i, s in enumerate(shape))
        em = Emitter(graph, div.name)
        sq = em.node("Mul", [a, a], shape, "square")
        ms = em.node("ReduceMean", [sq, em.const("axes", [axis], np.int64)], rshape, "mean_square",
                     keepdims=1)
        r = em.node("Rsqrt", [ms], rshape, "rsqrt")
        y = em.node("Mul", [a, r], shape, "normalized")
        em.node("Mul", [y, em.const("inv_sqrt_n", np.float32(1.0 / np.sqrt(shape[axis])))], shape,
                "unit", output=div.outputs[0])
        em.commit(div)
        for node in dead:
            graph.nodes.remove(node)
        graph.remove_unused()
        producers, consumers = graph.producers(), graph.consumers()
        new_a = _simplify_source(graph, a, producers, consumers)
        if new_a != a:
            graph.remove_unused()
        changed = True
    return changed
