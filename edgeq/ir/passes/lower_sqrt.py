"""``Sqrt(x)`` → ``Mul(x, Rsqrt(x))``: TFLite's SQRT is float-only, RSQRT has int8 and
int16 kernels (kernels/elementwise.cc). For ``x = 0`` the integer RSQRT returns its
largest value and the product is 0, as it should be.

The rsqrt's quantization range must reach ``1/sqrt(s_x)`` (the reciprocal square root
of x's smallest non-zero value) or small inputs would saturate it; the pass records
the pair in the ``HINT_RSQRT_OF`` hint and the quantizer derives that range from x's
params. The rsqrt, the product and the whole signal path feeding ``x`` (for a magnitude
spectrum: the squares, the transform, the padded raw input) are hinted int16: the square
of an amplitude spans twice its octaves, and 8-bit raw audio alone costs silero VAD a
speech-probability MAE of 0.011. The path's tensors are listed in ``HINT_SPECTRUM``; the
quantizer gives them percentile ranges instead of min/max at int16, because a spectrum's
rare loud bins cost less clipped than the resolution of its quiet ones (silero VAD, MAE:
0.0166 with both, 0.0288 with min/max).
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, HINT_RSQRT_OF, HINT_SPECTRUM, Emitter, add_hint


def _ancestors(graph: Graph, x: str, producers) -> list:
    """Nodes ``x`` depends on through float activations (the producers' producers …)."""
    seen, stack, out = set(), [x], []
    while stack:
        node = producers.get(stack.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        out.append(node)
        stack += [i for i in node.inputs if i and not graph.is_constant(i)
                  and graph.tensors[i].dtype.kind == "f"]
    return out


def run(graph: Graph) -> bool:
    changed = False
    producers = graph.producers()
    for node in [n for n in graph.nodes if n.op_type == "Sqrt" and not n.domain]:
        x = node.inputs[0]
        shape = graph.tensors[x].shape
        em = Emitter(graph, node.name)
        r = em.node("Rsqrt", [x], shape, "rsqrt")
        em.node("Mul", [x, r], shape, "sqrt", output=node.outputs[0])
        em.commit(node)
        add_hint(graph, HINT_RSQRT_OF, {r: x})
        hinted = [n.name for n in em.nodes]
        # the whole signal path feeding x (a power spectrum: the squares, the transform,
        # the raw input's padding): every node x depends on, up to the graph inputs
        upstream = _ancestors(graph, x, producers)
        hinted += [n.name for n in upstream]
        path = [o for n in upstream for o in n.outputs if o]
        path += [i for n in upstream for i in n.inputs if i in graph.inputs]
        add_hint(graph, HINT_SPECTRUM, sorted(set(path)))
        add_hint(graph, HINT_INT16, hinted)
        changed = True
    return changed
