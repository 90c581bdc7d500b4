"""``ReduceSum(x, axes)`` as ``Mul(ReduceMean(x, axes), n)`` with ``n`` the number of
elements summed per output.

The two are equal in float; in integer arithmetic the MEAN kernel is the one edgeq can
rely on: LiteRT's reference SUM for int8 with rescaling (kernels/reduce.cc ``EvalSum``,
``OpResolverType.BUILTIN_REF``) returns results off by multiples of 256·s_in/s_out on
ordinary inputs, while its MEAN matches its XNNPACK kernel and edgeq's simulator, and
MEAN has an int16 kernel that SUM lacks. The Mul by a constant is one requantization.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def _axes(graph: Graph, node, rank: int) -> list[int] | None:
    if len(node.inputs) > 1 and node.inputs[1]:
        raw = graph.const(node.inputs[1])
        if raw is None:
            return None
    else:
        raw = node.attrs.get("axes")
    axes = [] if raw is None else [int(a) % rank for a in np.atleast_1d(raw)]
    if not axes:
        return None if int(node.attrs.get("noop_with_empty_axes", 0)) else list(range(rank))
    return axes


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "ReduceSum" and not n.domain]:
        x = node.inputs[0]
        if graph.tensors[x].dtype.kind != "f":
            continue
        shape = graph.tensors[x].shape
        axes = _axes(graph, node, len(shape))
        if axes is None:
            continue
        n = int(np.prod([shape[a] for a in set(axes)]))
        em = Emitter(graph, node.name)
        out = node.outputs[0]
        mean = em.node("ReduceMean", list(node.inputs), graph.tensors[out].shape, "mean",
                       **{k: v for k, v in node.attrs.items()})
        em.node("Mul", [mean, em.const("count", np.float32(n))], graph.tensors[out].shape, "sum",
                output=out)
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    return changed
