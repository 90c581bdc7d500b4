"""A select between two constants by a boolean mask input, as arithmetic on the mask.

Current transformers exports (5.x, ``masking_utils``) build the attention bias as
``Where(cond, 0, finfo.min)`` where ``cond`` is the boolean attention mask moved into
place: ``Cast(attention_mask, bool)``, then Flatten / Reshape / Unsqueeze / Expand, a
Gather or GatherND with constant indices, and an ``And`` with a constant (the padding
or causal pattern). No integer target runs bool tensors into float compute, while the
same moves on the mask as a number are same-scale int8 ops (the way
``hoist_input_cast`` treats mean pooling).

Contract: for ``y = Where(cond, a, b)`` with constant float ``a``, ``b`` and ``cond``
reached from an integer or bool graph input ``x`` through the ops of ``REPLAY`` (each
with one non-constant input), ``y`` becomes ``b + (a - b) · m`` where ``m`` replays the
same ops on ``Cast(x, float)``: ``Cast(·, bool)`` is dropped and ``And(·, c)`` becomes
``Mul(·, float(c))``. This equals the Where exactly when ``x`` holds 0 and 1 (an
attention mask, as tokenizers write it); a mask with other values would be read by
value. Infinite ``a`` / ``b`` become ``±FINITE`` first (``0 · inf`` is NaN); the
attention-mask pass then clamps the bias to its own limit. The Cast of ``x`` is shared
with an existing one when there is one.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes._emitter import Emitter

#: ops replayed on the mask as a number (their other inputs constant)
REPLAY = frozenset({"Cast", "Flatten", "Reshape", "Unsqueeze", "Squeeze", "Expand", "Transpose",
                    "Tile", "Identity", "Gather", "And"})
#: what an infinite branch of the select becomes
FINITE = 1e30
_BOOL = 9  # TensorProto.BOOL


def _chain(graph: Graph, start: str, producers) -> tuple[str, list[Node]] | None:
    """The graph input and the REPLAY ops from it to ``start`` (input first), or None."""
    chain, name = [], start
    while name not in graph.inputs:
        node = producers.get(name)
        if node is None or node.op_type not in REPLAY or node.domain:
            return None
        moving = [i for i in node.inputs if i and not graph.is_constant(i)]
        if len(moving) != 1:
            return None
        if node.op_type == "Cast" and int(node.attrs.get("to", 0)) != _BOOL:
            return None
        if node.op_type != "And" and node.inputs[0] != moving[0]:
            return None  # e.g. a Gather whose indices move
        chain.append(node)
        name = moving[0]
    if not chain or graph.tensors[name].dtype.kind not in "iub":
        return None
    return name, chain[::-1]


def _shared_cast(graph: Graph, x: str) -> str:
    for node in graph.nodes:
        if (node.op_type == "Cast" and node.inputs[0] == x and not node.domain
                and graph.tensors[node.outputs[0]].dtype == np.float32):
            return node.outputs[0]
    name = graph.unique_name(f"{x}_as_float32")
    graph.tensors[name] = Tensor(name, np.float32, graph.tensors[x].shape)
    graph.nodes.insert(0, Node(graph.unique_name(f"{x}/cast"), "Cast", [x], [name], {"to": 1}))
    return name


def _replay(graph: Graph, em: Emitter, cur: str, chain: list[Node]) -> str:
    """``chain`` applied to the float mask ``cur``; an Expand (or Reshape) to the shape
    its input already has is skipped (an And before it has broadcast already)."""
    for step in chain:
        shape = graph.tensors[step.outputs[0]].shape
        if step.op_type in ("Cast", "Identity"):
            continue
        if step.op_type in ("Expand", "Reshape") and graph.tensors[cur].shape == shape:
            continue
        if step.op_type == "And":
            other = next(i for i in step.inputs if graph.is_constant(i))
            cur = em.node("Mul", [cur, em.const("and_mask", graph.const(other).astype(np.float32))],
                          shape, "and")
        else:
            cur = em.node(step.op_type, [cur, *step.inputs[1:]], shape, step.op_type.lower(),
                          **dict(step.attrs))
    return cur


def run(graph: Graph) -> bool:
    changed = False
    masks: dict[str, str] = {}  # cond -> its replay on the float mask (shared by every layer)
    for node in [n for n in graph.nodes if n.op_type == "Where" and not n.domain]:
        if len(node.inputs) != 3:
            continue
        cond, a_name, b_name = node.inputs
        a, b = graph.const(a_name), graph.const(b_name)
        if a is None or b is None or a.dtype.kind != "f" or b.dtype.kind != "f":
            continue
        found = _chain(graph, cond, graph.producers())
        if found is None:
            continue
        x, chain = found
        em = Emitter(graph, node.name)
        cur = masks.get(cond) or _replay(graph, em, _shared_cast(graph, x), chain)
        masks[cond] = cur
        a64 = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=FINITE, neginf=-FINITE)
        b64 = np.nan_to_num(b.astype(np.float64), nan=0.0, posinf=FINITE, neginf=-FINITE)
        out = node.outputs[0]
        scaled = em.node("Mul", [cur, em.const("select_gap", (a64 - b64).astype(np.float32))],
                         graph.tensors[out].shape, "scaled")
        em.node("Add", [scaled, em.const("select_base", b64.astype(np.float32))],
                graph.tensors[out].shape, "select", output=out)
        em.commit(node)
        changed = True
    if changed:
        graph.remove_unused()
        graph.toposort()
    return changed
