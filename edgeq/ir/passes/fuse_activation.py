"""Fuse Relu, Relu6 (``Clip(0, 6)``) and Clip into the Conv / FullyConnected that
produces their input, as the fused clamp attrs ``act_min`` / ``act_max``.

Contract: ``Relu(Y)`` or ``Clip(Y, lo?, hi?)`` with constant bounds, where Y is the
output of a Conv or FullyConnected read by nothing else (no other node, not a graph
output), becomes ``act_min``/``act_max`` on that producer, which then writes the
activation's output. Relu gives (0, +inf); a missing Clip bound is ±inf. An existing
clamp is intersected with the new one (clip∘clip = clip of the intersection when the
intervals overlap; otherwise nothing is fused). The clamp is what TFLite's fused
activations (kTfLiteActRelu / kTfLiteActRelu6) and the quantized output range apply.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.ir.graph import Graph, Node
from edgeq.ir.passes._match import Uses

PRODUCERS = ("Conv", "FullyConnected")


def clamp_bounds(graph: Graph, node: Node) -> tuple[float, float] | None:
    """(lo, hi) of a Relu or constant-bounded Clip node, else None."""
    if node.op_type == "Relu":
        return 0.0, math.inf
    if node.op_type != "Clip":
        return None
    bounds = []
    for i, default in ((1, -math.inf), (2, math.inf)):
        name = node.inputs[i] if len(node.inputs) > i else ""
        if not name:
            bounds.append(default)
            continue
        value = graph.const(name)
        if value is None or value.size != 1:
            return None
        bounds.append(float(np.asarray(value).reshape(())))
    return bounds[0], bounds[1]


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for act in [n for n in graph.nodes if n.op_type in ("Relu", "Clip") and n.domain == ""]:
        bounds = clamp_bounds(graph, act)
        producer = uses.producer_of(act.inputs[0], PRODUCERS)
        if bounds is None or producer is None or not uses.private(act.inputs[0]):
            continue
        lo = max(bounds[0], producer.attrs.get("act_min", -math.inf))
        hi = min(bounds[1], producer.attrs.get("act_max", math.inf))
        if lo > hi:
            continue
        producer.attrs["act_min"] = float(lo)
        producer.attrs["act_max"] = float(hi)
        producer.outputs = [act.outputs[0]] + producer.outputs[1:]
        graph.nodes.remove(act)
        changed = True
        uses.refresh()
    if changed:
        graph.remove_unused()
    return changed
