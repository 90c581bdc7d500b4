"""Fold an Add (or Sub) of a per-channel constant into the bias of the Conv or
FullyConnected producing its other operand.

Contract: ``Conv(X, W, B?) + c`` where c is a constant that varies at most along the
output-channel axis (axis 1 of the Conv output, e.g. PaddlePaddle's
``Add(conv, Reshape(b, [1, C, 1, 1]))``), and ``FullyConnected(X, W, B?) + c`` where c
varies at most along the last axis, become the producer with bias ``B + c``
(``B - c`` for ``Sub(y, c)``) writing the Add's output. The producer's output must be
read only by the Add, the producer must carry no fused clamp (the add happens before
any activation) and the Add must not broadcast the result to a bigger shape. A
quantized conv then requantizes once instead of twice.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses

#: producer op -> axis of the output channels in its output
CHANNEL_AXIS = {"Conv": 1, "ConvTranspose": 1, "FullyConnected": -1}


def channel_vector(graph: Graph, name: str, out_shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """Constant ``name`` as a length-C vector if it broadcasts along ``axis`` only."""
    value = graph.const(name)
    rank = len(out_shape)
    if value is None or value.dtype.kind != "f" or value.ndim > rank:
        return None
    axis = axis % rank
    full = (1,) * (rank - value.ndim) + value.shape
    if any(d != 1 for i, d in enumerate(full) if i != axis) or full[axis] not in (1, out_shape[axis]):
        return None
    return np.broadcast_to(value.reshape(-1), (out_shape[axis],)).astype(np.float64)


def absorb_add(graph: Graph, uses: Uses, producer: Node) -> bool:
    """Fold the Add/Sub reading ``producer``'s output into its bias (see contract)."""
    if "act_min" in producer.attrs or "act_max" in producer.attrs:
        return False
    y = producer.outputs[0]
    readers = uses.consumers.get(y, [])
    if len(readers) != 1 or not uses.private(y):
        return False
    add = readers[0]
    if add.domain != "" or add.op_type not in ("Add", "Sub") or len(add.inputs) != 2:
        return False
    if add.op_type == "Sub" and add.inputs[0] != y:
        return False
    other = add.inputs[1] if add.inputs[0] == y else add.inputs[0]
    shape = graph.tensors[y].shape
    if graph.tensors[add.outputs[0]].shape != shape:
        return False
    c = channel_vector(graph, other, shape, CHANNEL_AXIS[producer.op_type])
    weight = graph.const(producer.inputs[1])
    if c is None or weight is None:
        return False
    bias_name = producer.inputs[2] if len(producer.inputs) > 2 and producer.inputs[2] else ""
    bias = graph.const(bias_name) if bias_name else np.zeros(len(c))
    if bias is None:
        return False
    new_bias = bias.astype(np.float64).reshape(-1) + (c if add.op_type == "Add" else -c)
    name = graph.add_constant(f"{producer.name}_bias", new_bias.astype(weight.dtype))
    producer.inputs = producer.inputs[:2] + [name]
    producer.outputs = [add.outputs[0]] + producer.outputs[1:]
    graph.nodes.remove(add)
    uses.refresh()
    return True


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for node in [n for n in graph.nodes if n.op_type in CHANNEL_AXIS and n.domain == ""]:
        while absorb_add(graph, uses, node):  # several Adds in a row fold one by one
            changed = True
    if changed:
        graph.remove_unused()
    return changed
