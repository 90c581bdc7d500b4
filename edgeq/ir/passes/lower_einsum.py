"""Two-operand ``Einsum`` of batch-matmul form as ``Transpose``/``MatMul``/``Transpose``.

Exporters write attention with Einsum (``bhqd,bhkd->bhqk``, ``bhqk,bhkd->bhqd``,
``bij,bjk->bik``). Integer targets have a batched matmul (TFLite BATCH_MATMUL) and
transposes, not Einsum. Contract: an equation ``A,B->Y`` without ellipsis or repeated
letters where ``A`` and ``B`` share the batch letters (also in ``Y``) and exactly one
contracted letter (in both inputs, not in ``Y``), and each has exactly one free letter
(in ``Y``). Then ``Y = T_y(MatMul(T_a(A), T_b(B)))`` with ``T_a`` ordering ``A`` as
``[batch, free_a, contracted]``, ``T_b`` ordering ``B`` as ``[batch, contracted,
free_b]`` and ``T_y`` giving ``Y``'s letter order; identity transposes are omitted.
The products and sums are the same; only their order differs. Other equations stay
Einsum (float only).
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def plan(equation: str):
    """``(perm_a, perm_b, perm_y)`` for a batch-matmul equation, or None."""
    eq = equation.replace(" ", "")
    if "..." in eq or "->" not in eq:
        return None
    ins, out = eq.split("->")
    parts = ins.split(",")
    if len(parts) != 2:
        return None
    a, b = parts
    if any(len(set(s)) != len(s) for s in (a, b, out)):
        return None
    batch = [c for c in a if c in b and c in out]
    contracted = [c for c in a if c in b and c not in out]
    free_a = [c for c in a if c not in b]
    free_b = [c for c in b if c not in a]
    if len(contracted) != 1 or len(free_a) != 1 or len(free_b) != 1:
        return None
    if set(out) != set(batch) | set(free_a) | set(free_b) or any(c not in out for c in free_a + free_b):
        return None
    a_order = batch + free_a + contracted
    b_order = batch + contracted + free_b
    y_order = batch + free_a + free_b
    return ([a.index(c) for c in a_order], [b.index(c) for c in b_order],
            [y_order.index(c) for c in out])


def _permute(em: Emitter, graph: Graph, x: str, perm: list[int], suffix: str) -> str:
    if perm == sorted(perm):
        return x
    shape = graph.tensors[x].shape
    return em.node("Transpose", [x], tuple(shape[p] for p in perm), suffix, perm=list(perm))


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "Einsum" and not n.domain]:
        eq = node.attrs.get("equation", "")
        eq = eq.decode() if isinstance(eq, bytes) else str(eq)
        p = plan(eq)
        if p is None or len(node.inputs) != 2:
            continue
        pa, pb, py = p
        em = Emitter(graph, node.name)
        a = _permute(em, graph, node.inputs[0], pa, "a")
        b = _permute(em, graph, node.inputs[1], pb, "b")
        sa, sb = graph.tensors[a].shape, graph.tensors[b].shape
        mm_shape = (*sa[:-1], sb[-1])
        out = node.outputs[0]
        if py == sorted(py):
            em.node("MatMul", [a, b], mm_shape, "matmul", output=out)
        else:
            mm = em.node("MatMul", [a, b], mm_shape, "matmul")
            em.node("Transpose", [mm], graph.tensors[out].shape, "y", output=out, perm=list(py))
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    return changed
