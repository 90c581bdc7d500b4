"""NaN guards removed: ``Where(IsNaN(x), c, x)`` is ``x``.

Current transformers exports (5.x, scaled-dot-product attention) write the attention
probabilities as ``Where(IsNaN(p), 0, p)``: a row whose every key is masked gives
``softmax([-inf, ...]) = NaN``, and the guard turns it into zeros. In a lowered graph the
mask bias is finite (``lower_attention_mask`` clamps it to ``-MASK_LIMIT``), so the
softmax is finite and the guard selects ``x`` everywhere; an integer tensor has no NaN
at all. No integer target has a kernel for IsNaN, so the guard would otherwise force
the attention into float.

Contract: every ``Where(cond, a, b)`` with ``cond = IsNaN(b)`` (or ``Not(IsNaN(a))`` with
the branches swapped) is replaced by its non-NaN branch; the IsNaN/Not nodes go when
nothing else reads them. A guard over a tensor that can be NaN in float changes only
the positions that were NaN.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph, Node


def _guarded(graph: Graph, node, producers) -> str | None:
    """The tensor a NaN-guarding Where passes through, or None."""
    if node.op_type != "Where" or node.domain or len(node.inputs) != 3:
        return None
    cond, a, b = node.inputs
    test = producers.get(cond)
    if test is None:
        return None
    if test.op_type == "IsNaN" and test.inputs[0] == b:
        return b
    if test.op_type == "Not":
        inner = producers.get(test.inputs[0])
        if inner is not None and inner.op_type == "IsNaN" and inner.inputs[0] == a:
            return a
    return None


def run(graph: Graph) -> bool:
    producers = graph.producers()
    changed = False
    for node in list(graph.nodes):
        keep = _guarded(graph, node, producers)
        if keep is None:
            continue
        out = node.outputs[0]
        graph.nodes.remove(node)
        if out in graph.outputs:
            # keep the output's name: a graph output is read by name
            graph.nodes.append(Node(node.name, "Identity", [keep], [out]))
        else:
            graph.replace_uses(out, keep)
        changed = True
    if changed:
        graph.remove_unused()
        graph.toposort()
    return changed
