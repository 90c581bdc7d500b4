"""``GatherElements(data, index)`` with a constant index as one ``Gather`` on the
flattened data, which every integer target runs (TFLite GATHER copies int8/int16
values, so it is exact).

Contract: for a GatherElements node whose ``index`` is a constant and whose data has a
static shape, ``flat = Reshape(data, [-1])`` and ``y = Gather(flat, f, axis=0)`` where
``f`` (int64, the index's shape) holds the row-major offset in ``data`` of every element
GatherElements reads. The result equals GatherElements exactly (it moves values). A
GatherElements with a computed index is left alone (no target runs it in integer).

Current transformers BERT exports read ``token_type_ids`` this way; with static input
shapes constant folding usually removes that gather, and this pass covers those
where the data is an activation.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter


def flat_offsets(index: np.ndarray, data_shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Row-major offsets into ``data`` of the elements GatherElements reads."""
    idx = np.asarray(index, np.int64)
    dim = data_shape[axis]
    idx = np.where(idx < 0, idx + dim, idx)
    coords = list(np.indices(idx.shape, dtype=np.int64))
    coords[axis] = idx
    return np.ravel_multi_index(tuple(coords), data_shape).astype(np.int64)


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "GatherElements" and not n.domain]:
        data, index = node.inputs[0], node.inputs[1]
        idx = graph.const(index)
        shape = graph.tensors[data].shape
        if idx is None or not shape or any(not isinstance(d, int) or d < 0 for d in shape):
            continue
        axis = int(node.attrs.get("axis", 0)) % len(shape)
        if idx.size and (idx.min() < -shape[axis] or idx.max() >= shape[axis]):
            continue  # the float interpreter reports the bad index
        em = Emitter(graph, node.name)
        size = int(np.prod(shape))
        flat = em.node("Reshape", [data, em.const("flat_shape", [size], np.int64)], (size,), "flat",
                       dtype=graph.tensors[data].dtype)
        em.node("Gather", [flat, em.const("offsets", flat_offsets(idx, shape, axis), np.int64)],
                graph.tensors[node.outputs[0]].shape, "gather", output=node.outputs[0], axis=0)
        em.commit(node)
        em.nodes[-1].name = node.name
        changed = True
    if changed:
        graph.remove_unused()
    return changed
