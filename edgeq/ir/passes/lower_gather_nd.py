"""``GatherND(data, indices)`` with constant indices as one ``Gather`` on the data with
its first ``k`` axes flattened, which every integer target runs (a Gather moves values,
so it is exact).

Contract: for a GatherND node with ``batch_dims = 0``, constant ``indices`` of shape
``I + (k,)`` and data of static shape ``D``: ``flat = Reshape(data, [prod(D[:k])] +
D[k:])`` and ``y = Gather(flat, f, axis=0)`` where ``f`` (int64, shape ``I``) holds the
row-major offset of every addressed slice. A GatherND with computed indices or batch
dimensions is left alone.

The dynamo exporter of torch writes the attention-mask lookup of transformers 5 as a
GatherND with constant indices on the boolean mask.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "GatherND" and not n.domain]:
        data, index = node.inputs[0], node.inputs[1]
        idx = graph.const(index)
        shape = graph.tensors[data].shape
        if (idx is None or idx.ndim < 1 or int(node.attrs.get("batch_dims", 0)) != 0 or not shape
                or any(not isinstance(d, int) or d < 0 for d in shape)):
            continue
        k = idx.shape[-1]
        dims = np.array(shape[:k], np.int64)
        if k > len(shape) or (idx.size and ((idx < -dims).any() or (idx >= dims).any())):
            continue  # the float interpreter reports the bad index
        idx = np.where(idx < 0, idx + dims, idx).astype(np.int64)
        offsets = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), tuple(shape[:k])) if k else \
            np.zeros(idx.shape[:-1], np.int64)
        em = Emitter(graph, node.name)
        lead = int(np.prod(shape[:k], dtype=np.int64))
        flat_shape = (lead,) + tuple(shape[k:])
        flat = em.node("Reshape", [data, em.const("flat_shape", list(flat_shape), np.int64)], flat_shape,
                       "flat", dtype=graph.tensors[data].dtype)
        em.node("Gather", [flat, em.const("offsets", np.asarray(offsets, np.int64), np.int64)],
                graph.tensors[node.outputs[0]].shape, "gather", output=node.outputs[0],
                dtype=graph.tensors[node.outputs[0]].dtype, axis=0)
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    if changed:
        graph.remove_unused()
    return changed
