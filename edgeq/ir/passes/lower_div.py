"""Division by a computed tensor, ``Div(a, b)`` with ``b`` not a constant, as
``Mul(Mul(a, Rsqrt(b)), Rsqrt(b))``.

TFLite has no int8/int16 DIV (kernels/div.cc quantizes uint8 only); RSQRT and MUL have
integer kernels. The pattern is sentence-transformers' mean pooling of current
exports: ``ReduceSum(h · mask) / Clip(ReduceSum(mask), 1e-9)``, where ``b`` counts
tokens (at least 1), so ``rsqrt(b)`` stays in ``(0, 1]``.

Like ``lower_sqrt``, the rsqrt's range is derived from ``b``'s quantization
(``HINT_RSQRT_OF``: up to the reciprocal square root of ``b``'s smallest non-zero value),
and the rsqrt and both products are hinted int16: a reciprocal needs more resolution
than int8 gives its small values. ``b <= 0`` is outside the contract (a float Div by it
is infinite or negative under a square root). Division by a constant is handled by
``lower_div_const`` (a plain multiplication), which runs first.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, HINT_RSQRT_OF, Emitter, add_hint


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "Div" and not n.domain]:
        a, b = node.inputs[0], node.inputs[1]
        if graph.is_constant(b) or graph.tensors[b].dtype.kind != "f":
            continue
        if graph.tensors[a].dtype.kind != "f":
            continue
        em = Emitter(graph, node.name)
        r = em.node("Rsqrt", [b], graph.tensors[b].shape, "rsqrt")
        out_shape = graph.tensors[node.outputs[0]].shape
        half = em.node("Mul", [a, r], out_shape, "half_divided")
        em.node("Mul", [half, r], out_shape, "divided", output=node.outputs[0])
        em.commit(node)
        em.nodes[-1].name = node.name
        add_hint(graph, HINT_RSQRT_OF, {r: b})
        add_hint(graph, HINT_INT16, [n.name for n in em.nodes])
        changed = True
    return changed
