"""Recognise decomposed layer normalisation as ONNX ``LayerNormalization``
(opset 17: normalise over axes ``[axis, rank)``, then ``· Scale + B``).

Contract: the decomposed form exported by PyTorch / TF for ``LayerNorm``

    mean = ReduceMean(x, axes)            d = x - mean
    var  = ReduceMean(Pow(d, 2) | d·d, axes)
    n    = d / Sqrt(var + eps)            (or d · Reciprocal(Sqrt(var + eps)))
    y    = n · gamma + beta               (each of gamma, beta optional)

where ``axes`` are the trailing axes of x (keepdims), eps / gamma / beta are
constants broadcasting only over the normalised axes, every intermediate is read
only by the pattern (``d`` by its two uses) and the result has x's shape, becomes
``LayerNormalization(x, Scale, B?; axis, epsilon)`` with Scale/B materialised to the
normalised shape ``x.shape[axis:]``. Existing LayerNormalization nodes get their
``axis`` made non-negative and ``epsilon`` explicit.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses, const_operand, other_input, rewrite_as, scalar

OP = "LayerNormalization"


def _reduce_axes(graph: Graph, node: Node, rank: int) -> tuple[int, ...] | None:
    if node.attrs.get("keepdims", 1) != 1 or len(node.inputs) < 2:
        return None
    axes = graph.const(node.inputs[1])
    if axes is None or axes.size == 0:
        return None
    return tuple(sorted(int(a) % rank for a in np.asarray(axes).reshape(-1)))


def _param(graph: Graph, name: str, x_shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """A constant that broadcasts against x only over the normalised axes, as x.shape[axis:]."""
    value = graph.const(name)
    if value is None or value.ndim > len(x_shape):
        return None
    full = (1,) * (len(x_shape) - value.ndim) + value.shape
    if any(d != 1 for d in full[:axis]):
        return None
    try:
        return np.broadcast_to(value.reshape(full[axis:]), x_shape[axis:]).copy()
    except ValueError:
        return None


def _match(graph: Graph, uses: Uses, mean: Node):
    x = mean.inputs[0]
    shape = graph.tensors[x].shape
    axes = _reduce_axes(graph, mean, len(shape))
    if axes is None or axes != tuple(range(axes[0], len(shape))) or not uses.private(mean.outputs[0]):
        return None
    sub = uses.consumers[mean.outputs[0]][0]
    if sub.op_type != "Sub" or sub.inputs != [x, mean.outputs[0]]:
        return None
    d = sub.outputs[0]
    readers = uses.consumers.get(d, [])
    square = next((n for n in readers if n.op_type == "Pow" and scalar(graph, n.inputs[1]) == 2.0
                   or n.op_type == "Mul" and n.inputs == [d, d]), None)
    if square is None or not uses.private(d, 3 if square.op_type == "Mul" else 2):
        return None
    chain = _follow(graph, uses, square.outputs[0], [("ReduceMean", None), ("Add", "eps"), ("Sqrt", None)])
    if chain is None or _reduce_axes(graph, chain[0][0], len(shape)) != axes:
        return None
    eps, std = chain[1][1], chain[2][0].outputs[0]
    norm = next((n for n in readers if n is not square), None)
    if norm is None or not uses.private(std):
        return None
    if norm.op_type == "Div" and norm.inputs == [d, std]:
        pass
    elif norm.op_type == "Mul" and uses.producer_of(other_input(norm, d) or "", "Reciprocal"):
        recip = uses.producer_of(other_input(norm, d), "Reciprocal")
        if recip.inputs[0] != std or not uses.private(recip.outputs[0]):
            return None
    else:
        return None
    out, gamma, beta = norm.outputs[0], None, None
    step = _affine_step(graph, uses, out, "Mul", shape, axes[0])
    if step is not None:
        gamma, out = step
    step = _affine_step(graph, uses, out, "Add", shape, axes[0])
    if step is not None:
        beta, out = step
    return x, axes[0], eps, gamma, beta, out


def _affine_step(graph: Graph, uses: Uses, name: str, op: str, shape, axis: int):
    """``name`` read only by ``op(name, const)`` with a per-normalised-element const."""
    readers = uses.consumers.get(name, [])
    if len(readers) != 1 or readers[0].op_type != op or not uses.private(name):
        return None
    node = readers[0]
    value = _param(graph, other_input(node, name) or "", shape, axis)
    if value is None or graph.tensors[node.outputs[0]].shape != shape:
        return None
    return value, node.outputs[0]


def _follow(graph: Graph, uses: Uses, name: str, steps):
    """Walk single-consumer chain ``steps`` [(op, "eps"|None)] from ``name``."""
    found = []
    for op, kind in steps:
        readers = uses.consumers.get(name, [])
        if len(readers) != 1 or readers[0].op_type != op or not uses.private(name):
            return None
        node = readers[0]
        value = None
        if kind == "eps":
            operand = const_operand(graph, node)
            if operand is None or operand[0] != name or operand[1] < 0:
                return None
            value = operand[1]
        found.append((node, value))
        name = node.outputs[0]
    return found


def run(graph: Graph) -> bool:
    changed = False
    for node in graph.nodes:
        if node.op_type == OP and node.domain == "":
            rank = len(graph.tensors[node.inputs[0]].shape)
            axis = int(node.attrs.get("axis", -1)) % rank
            if node.attrs.get("axis") != axis or "epsilon" not in node.attrs:
                node.attrs["axis"] = axis
                node.attrs.setdefault("epsilon", 1e-5)
                changed = True
    uses = Uses(graph)
    for mean in [n for n in graph.nodes if n.op_type == "ReduceMean" and n.domain == ""]:
        if mean not in graph.nodes:
            continue
        found = _match(graph, uses, mean)
        if found is None:
            continue
        x, axis, eps, gamma, beta, out = found
        dtype = graph.tensors[x].dtype
        shape = graph.tensors[x].shape[axis:]
        root = uses.producer[out]
        gamma = np.ones(shape, dtype) if gamma is None else gamma.astype(dtype)
        inputs = [x, graph.add_constant(f"{root.name}_scale", gamma)]
        if beta is not None:
            inputs.append(graph.add_constant(f"{root.name}_bias", beta.astype(dtype)))
        rewrite_as(graph, root, OP, inputs, {"axis": axis, "epsilon": float(eps)})
        changed = True
        uses.refresh()
    return changed
