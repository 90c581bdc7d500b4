"""``Silu(x) = x · sigmoid(x)`` (edgeq canonical op, :mod:`edgeq.ir.ops`) as
``Mul(x, Sigmoid(x))`` for integer targets.

No integer runtime edgeq emits for has a SiLU kernel: TFLite runs it as LOGISTIC then
MUL (the form its converter produces for ``tf.nn.silu``), and both have int8 and 16x8
reference kernels. The Sigmoid output gets the fixed scale of LOGISTIC (1/256, zero
point -128 in int8, ``kernels/activations.cc`` SigmoidPrepare), so the only extra
rounding is that of the MUL, whose output keeps the Silu output's name and calibrated
range. The Mul keeps the Silu node's name, so per-node options naming it still apply.
"""

from __future__ import annotations

from edgeq.ir.graph import Graph
from edgeq.ir.ops import SILU
from edgeq.ir.passes._emitter import Emitter


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == SILU and not n.domain]:
        x = node.inputs[0]
        em = Emitter(graph, node.name)
        gate = em.node("Sigmoid", [x], graph.tensors[x].shape, "sigmoid")
        em.node("Mul", [x, gate], graph.tensors[node.outputs[0]].shape, "mul", output=node.outputs[0])
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    return changed
