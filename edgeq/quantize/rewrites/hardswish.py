"""HardSwish as integer MUL / ADD / MUL, for targets whose HardSwish kernel is slow.

``HardSwish(x) = x · HardSigmoid(x)`` with ``HardSigmoid(x) = clamp(x/6 + 1/2, 0, 1)``
(ONNX HardSwish-14). A spec that lists ``"HardSwish"`` in ``QuantSpec.decompose_ops``
gets every int8 HardSwish node rewritten, at build time, into::

    s = Mul(x, 1/6)                 # the integers of x, at scale s_x / 6
    h = Add(s, 1/2), clamp [0, 1]   # HardSigmoid, the clamp is the output range
    y = Mul(x, h)                   # y keeps the HardSwish output's calibrated range

Why: LiteRT's XNNPACK delegate has no int8 HARD_SWISH, so each one runs on the builtin
kernel (PP-OCR classifier: 18 HARD_SWISH took 1.6 ms of 2.1 ms) and splits the XNNPACK
partition, while int8 MUL and ADD (with constant operands) stay delegated. Of the
three-op forms this one rounds least: ``s`` gets ``x``'s range divided by 6, so the
first MUL's requantization multiplier is 1 and ``s`` holds exactly ``x``'s integers;
``h`` and ``y`` are the only new roundings (``Add(x, 3)`` clamped to ``[0, 6]`` then
``Mul`` and a final ``Mul`` by 1/6 rounds once more). A 1x1 depthwise convolution for
``h`` is one op less, but in XNNPACK it and the MUL took 11 us on a 28x28x32 tensor,
the three ops here 2.6 us (the builtin HARD_SWISH: 90 us).

No calibration is needed for the new tensors: ``s`` and ``h`` are monotonic functions of
``x`` whose ranges follow from ``x``'s chosen range, and ``y`` is the HardSwish output,
which keeps its name and statistics. The lowered float graph is rewritten the same way
(exact in float), so per-layer comparisons see every tensor of the quantized graph.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter
from edgeq.types import QDType

log = logging.getLogger(__name__)

OP = "HardSwish"


def hardsigmoid_range(lo: float, hi: float) -> tuple[float, float]:
    """Range of ``clamp(x/6 + 1/2, 0, 1)`` for ``x`` in ``[lo, hi]``, widened to contain 0
    (activation ranges always do). An empty top (x never above -3) keeps one int8 step."""
    top = float(np.clip(hi / 6.0 + 0.5, 0.0, 1.0))
    return 0.0, max(top, 1.0 / 255.0)


def expand(graph: Graph, nodes: set[str], input_range) -> tuple[Graph, dict, dict[str, set[str]]]:
    """A copy of ``graph`` with the named HardSwish nodes as ``Mul / Add / Mul``.

    ``input_range(tensor) -> (lo, hi)`` gives a HardSwish input's range. Returns the graph,
    range overrides for the new tensors, and for each replaced node the names of the nodes
    replacing it. The output tensor of each HardSwish is kept (same name)."""
    g = graph.copy()
    overrides: dict[str, tuple[float, float]] = {}
    replaced: dict[str, set[str]] = {}
    for name in sorted(nodes):
        node = g.node_by_name(name)
        if node.op_type != OP or node.domain:
            continue
        x, y = node.inputs[0], node.outputs[0]
        lo, hi = input_range(x)
        shape = g.tensors[x].shape
        em = Emitter(g, name)
        s = em.node("Mul", [x, em.const("sixth", np.float32(1.0 / 6.0))], shape, "x_sixth")
        h = em.node("Add", [s, em.const("half", np.float32(0.5))], shape, "hardsigmoid",
                    act_min=0.0, act_max=1.0)
        em.node("Mul", [x, h], shape, "hardswish", output=y)
        em.commit(node)
        replaced[name] = {n.name for n in em.nodes}
        overrides[s] = (lo / 6.0, hi / 6.0)
        overrides[h] = hardsigmoid_range(lo, hi)
    return g, overrides, replaced


def apply(builder, graph: Graph, lowered: Graph, overrides: dict, int16_nodes: set[str]):
    """The pipeline hook (``edgeq.quantize.pipeline.builder.Builder.build``): if the builder's
    spec decomposes HardSwish, expand every HardSwish that is not left in float, in both
    the graph to build and the lowered float graph; ``overrides`` gains the new tensors'
    ranges. Returns ``(graph, lowered, int16_nodes)``; the replacing nodes of an int16
    request are int16 (MUL and ADD have 16x8 kernels, HARD_SWISH has none)."""
    if OP not in builder.spec.decompose_ops:
        return graph, lowered, int16_nodes
    names = {n.name for n in graph.nodes
             if n.op_type == OP and not n.domain and n.name not in builder.float_nodes}
    if not names:
        return graph, lowered, int16_nodes
    wide = {n for n in names if n in int16_nodes and builder.spec.supports_int16()}
    wide_inputs = {n.inputs[0] for n in graph.nodes if n.name in wide}

    def input_range(x: str) -> tuple[float, float]:
        if x in overrides:
            return tuple(overrides[x])
        return builder.chooser(x, QDType.INT16 if x in wide_inputs else QDType.INT8)

    graph, extra, replaced = expand(graph, names, input_range)
    lowered = expand(lowered, names & {m.name for m in lowered.nodes}, input_range)[0]
    overrides.update(extra)
    int16_nodes = set(int16_nodes) - names
    for n in wide:
        int16_nodes |= replaced[n]
    log.debug("HardSwish decomposed into MUL/ADD/MUL: %d node(s)", len(replaced))
    return graph, lowered, int16_nodes
