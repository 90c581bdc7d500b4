"""``HardSigmoid(x; α, β) = clamp(α·x + β, 0, 1)`` (ONNX HardSigmoid-6) without a
HARD_SIGMOID builtin in TFLite:

* folded into the Conv/FullyConnected producing ``x`` when nothing else reads ``x`` and
  that node has no fused clamp: ``W ← α·W``, ``b ← α·b + β``, fused clamp ``[0, 1]``
  (exact in float, and one integer op instead of two);
* otherwise ``Mul(x, α)`` then ``Add(·, β)`` with the fused clamp ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def _fold(graph: Graph, node, producers, consumers) -> bool:
    x = node.inputs[0]
    src = producers.get(x)
    if src is None or src.op_type not in ("Conv", "FullyConnected") or x in graph.outputs:
        return False
    if len(consumers.get(x, [])) != 1 or "act_min" in src.attrs or "act_max" in src.attrs:
        return False
    w = graph.const(src.inputs[1])
    if w is None:
        return False
    alpha, beta = float(node.attr("alpha", 0.2)), float(node.attr("beta", 0.5))
    out_ch = w.shape[0]
    b = graph.const(src.inputs[2]) if len(src.inputs) > 2 and src.inputs[2] else np.zeros(out_ch, np.float32)
    src.inputs = list(src.inputs) + [""] * (3 - len(src.inputs))
    src.inputs[1] = graph.add_constant(f"{src.inputs[1]}_hardsigmoid", (w * np.float32(alpha)).astype(np.float32))
    src.inputs[2] = graph.add_constant(f"{src.name}/bias_hardsigmoid",
                                       (b.astype(np.float64) * alpha + beta).astype(np.float32))
    src.attrs["act_min"], src.attrs["act_max"] = 0.0, 1.0
    src.outputs = [node.outputs[0]]
    graph.nodes.remove(node)
    return True


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "HardSigmoid" and not n.domain]:
        producers, consumers = graph.producers(), graph.consumers()
        if _fold(graph, node, producers, consumers):
            changed = True
            continue
        x = node.inputs[0]
        shape = graph.tensors[x].shape
        em = Emitter(graph, node.name)
        m = em.node("Mul", [x, em.const("alpha", np.float32(node.attr("alpha", 0.2)))], shape, "scaled")
        em.node("Add", [m, em.const("beta", np.float32(node.attr("beta", 0.5)))], shape, "shifted",
                output=node.outputs[0], act_min=0.0, act_max=1.0)
        em.commit(node)
        changed = True
    if changed:
        graph.remove_unused()
    return changed
