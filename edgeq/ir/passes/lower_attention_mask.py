"""Attention-mask additions: find them and clamp their huge constants.

BERT-style models add a mask bias to the attention scores before the softmax:
``scores + (1 - mask) * -10000`` (or ``-inf`` / ``finfo.min``, or ``Where(mask, 0,
-inf)``). A quantizer that takes the bias's range at face value spends the whole int8
range on the gap between 0 and -10000 and the scores vanish. This pass

* replaces every non-finite or huge (``|c| > MASK_LIMIT``) float constant on the
  bias's path by ``±MASK_LIMIT``, so no infinity (and no ``0 · inf = NaN``) ever reaches
  a range;
* records ``[add node, scores input, bias input]`` in the ``HINT_MASK_ADDS`` hint. The
  quantizer then gives the bias the range ``[-K, 0]`` and the sum
  ``[min(lo, hi - K), hi]`` from the scores' range ``[lo, hi]``: masked positions
  saturate at least ``K`` below every attended score, where the softmax weight
  ``e^-K`` is negligible.

An addition is a mask addition when it feeds a Softmax and one operand's producer
chain (shape ops, Mul/Sub/Add/Cast/Where) reaches a constant of magnitude at least
``MASK_MIN`` while the other does not.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_MASK_ADDS, add_hint, get_hint

MASK_LIMIT = 1e4
MASK_MIN = 1e3
_CHAIN_OPS = frozenset({"Mul", "Sub", "Add", "Cast", "Where", "Unsqueeze", "Reshape", "Expand",
                        "Squeeze", "Transpose", "Neg", "Concat", "Tile"})


def _huge_constants(graph: Graph, start: str, producers, limit: int = 16) -> list[str] | None:
    """Float constants of magnitude >= MASK_MIN found walking up from ``start``."""
    found, stack, seen = [], [start], set()
    while stack and len(seen) < limit:
        name = stack.pop()
        if name in seen or not name:
            continue
        seen.add(name)
        data = graph.const(name)
        if data is not None:
            if data.dtype.kind == "f" and data.size and np.nanmax(np.abs(data)) >= MASK_MIN:
                found.append(name)
            continue
        node = producers.get(name)
        if node is None or node.op_type not in _CHAIN_OPS:
            continue
        stack.extend(node.inputs)
    return found


def run(graph: Graph) -> bool:
    producers, consumers = graph.producers(), graph.consumers()
    known = {entry[0] for entry in get_hint(graph, HINT_MASK_ADDS, [])}
    changed = False
    for node in graph.nodes:
        if node.op_type != "Add" or node.domain or node.name in known:
            continue
        if not any(c.op_type == "Softmax" for c in consumers.get(node.outputs[0], [])):
            continue
        hits = [_huge_constants(graph, i, producers) for i in node.inputs]
        if bool(hits[0]) == bool(hits[1]):
            continue
        k = 0 if hits[0] else 1
        for cname in hits[k]:
            data = graph.const(cname)
            clamped = np.clip(np.nan_to_num(data, nan=0.0, posinf=MASK_LIMIT, neginf=-MASK_LIMIT),
                              -MASK_LIMIT, MASK_LIMIT).astype(data.dtype)
            if not np.array_equal(clamped, data):
                graph.tensors[cname].data = clamped
        add_hint(graph, HINT_MASK_ADDS, [[node.name, node.inputs[1 - k], node.inputs[k]]])
        changed = True
    return changed
