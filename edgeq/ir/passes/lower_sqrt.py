"""``Sqrt(x)`` → ``Mul(x, Rsqrt(x))``: TFLite's SQRT is float-only, RSQRT has int8 and
int16 kernels (kernels/elementwise.cc). For ``x = 0`` the integer RSQRT returns its
largest value and the product is 0, as it should be.

The rsqrt's quantization range must reach ``1/sqrt(s_x)`` (the reciprocal square root
of x's smallest non-zero value) or small inputs would saturate it; the pass records
the pair in the ``HINT_RSQRT_OF`` hint and the quantizer derives that range from x's
params. The chain ``x``, rsqrt, product is also hinted int16: the square of an
amplitude (a power spectrum) spans too many octaves for 8 bits.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.passes._lowering import HINT_INT16, HINT_RSQRT_OF, Emitter, add_hint


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
        # x's producer and, for a sum of squares, the squares feeding it
        src = producers.get(x)
        if src is not None:
            hinted.append(src.name)
            if src.op_type == "Add":
                hinted += [producers[i].name for i in src.inputs
                           if i in producers and producers[i].op_type == "Mul"]
        add_hint(graph, HINT_INT16, hinted)
        changed = True
    return changed
