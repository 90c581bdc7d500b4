"""Remove Identity and (inference-mode) Dropout nodes.

Contract: every consumer of the node's output reads its input instead. When the
output is a graph output its name must survive, so the producer of the input is
renamed to produce the graph output directly; when that is impossible (the input is a
graph input, a constant, or itself a graph output) the node is kept. A Dropout
whose optional ``mask`` output is read gets it replaced by an all-true constant
(inference-mode Dropout keeps every element, ONNX Dropout-13). A Dropout in training
mode (a constant true ``training_mode`` input) is kept.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses

OPS = ("Identity", "Dropout")


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type in OPS and n.domain == ""]:
        if node.op_type == "Dropout" and not _inference_dropout(graph, node):
            continue
        if bypass(graph, node):
            changed = True
    if changed:
        graph.remove_unused()
    return changed


def _inference_dropout(graph: Graph, node: Node) -> bool:
    if len(node.inputs) > 2 and node.inputs[2]:
        training = graph.const(node.inputs[2])
        if training is None or bool(np.asarray(training).reshape(-1)[0]):
            return False
    return True


def bypass(graph: Graph, node: Node) -> bool:
    """Make readers of ``node.outputs[0]`` read ``node.inputs[0]``; drop ``node``."""
    src, dst = node.inputs[0], node.outputs[0]
    uses = Uses(graph)
    if dst in uses.outputs:
        producer = uses.producer.get(src)
        if producer is None or src in uses.outputs or src in graph.inputs:
            return False
        # rename src -> dst everywhere, so the graph output keeps its name
        producer.outputs = [dst if o == src else o for o in producer.outputs]
        for n in graph.nodes:
            if n is not node:
                n.inputs = [dst if i == src else i for i in n.inputs]
        graph.tensors.pop(src, None)
    else:
        for n in uses.consumers.get(dst, []):
            n.inputs = [src if i == dst else i for i in n.inputs]
    graph.nodes.remove(node)
    if node.op_type == "Dropout" and len(node.outputs) > 1 and node.outputs[1]:
        mask = node.outputs[1]
        shape = graph.tensors[mask].shape
        graph.tensors[mask].data = np.ones(shape, dtype=bool)
    return True
