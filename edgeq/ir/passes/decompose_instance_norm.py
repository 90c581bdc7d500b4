"""Decompose ``InstanceNormalization`` and ``GroupNormalization`` into ops with integer
kernels, as ``decompose_layernorm`` does for LayerNormalization.

For ``x[N, C, *S]`` (ONNX InstanceNormalization-6, GroupNormalization-18/21), with ``G``
groups (``G = C`` for instance normalisation)::

    g    = Reshape(x, [N, G, C/G · prod(S)])     (skipped when G = C and S has one axis
                                                  less to reduce: the statistics then run
                                                  over the spatial axes of x directly)
    mean = ReduceMean(g, last axes)              MEAN
    d    = Sub(g, mean)                          SUB
    var  = ReduceMean(Mul(d, d), last axes)      MUL, MEAN
    r    = Rsqrt(Add(var, eps))                  ADD, RSQRT
    n    = Reshape(Mul(d, r), x.shape)           MUL (, RESHAPE)
    y    = Add(Mul(n, scale[1, C, 1…]), bias[1, C, 1…])   MUL, ADD

The biased variance and ``epsilon`` are ONNX's. GroupNormalization-18's per-group
``scale``/``bias`` are repeated per channel (what the float interpreter and onnxruntime
compute). The statistics path is hinted int16, for the reason decompose_layernorm gives
(squares span twice the octaves of the activations). A node whose scale or bias is not
a constant, or whose shape is not static, is left alone.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, Emitter, add_hint, shape_of
from edgeq.ir.passes.decompose_layernorm import statistics

_STATS = ("grouped", "mean", "centered", "squared", "variance", "variance_eps", "rstd", "normalized")


def _per_channel(values: np.ndarray, channels: int, groups: int, rank: int) -> np.ndarray:
    v = np.asarray(values, np.float32).reshape(-1)
    if v.size == groups != channels:
        v = np.repeat(v, channels // groups)
    return v.reshape((1, channels) + (1,) * (rank - 2))


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type in ("InstanceNormalization", "GroupNormalization")
                 and not n.domain]:
        x = node.inputs[0]
        shape = shape_of(graph, x)
        if len(shape) < 3 or any(not isinstance(d, int) or d <= 0 for d in shape):
            continue
        scale, bias = graph.const(node.inputs[1]), graph.const(node.inputs[2])
        if scale is None or bias is None:
            continue
        n, c, rank = shape[0], shape[1], len(shape)
        groups = c if node.op_type == "InstanceNormalization" else int(node.attr("num_groups", 1))
        if groups < 1 or c % groups or scale.size not in (c, groups) or bias.size not in (c, groups):
            continue  # the float interpreter reports the bad configuration
        eps = float(node.attr("epsilon", 1e-5))
        em = Emitter(graph, node.name)
        if groups == c:
            g, gshape, axes = x, shape, list(range(2, rank))
        else:
            gshape = (n, groups, int(np.prod(shape[1:])) // groups)
            g = em.node("Reshape", [x, em.const("group_shape", list(gshape), np.int64)], gshape, "grouped")
            axes = [2]
        d, r = statistics(em, g, gshape, axes, eps)
        y = em.node("Mul", [d, r], gshape, "normalized")
        if groups != c:
            y = em.node("Reshape", [y, em.const("shape", list(shape), np.int64)], shape, "ungrouped")
        y = em.node("Mul", [y, em.const("scale", _per_channel(scale, c, groups, rank))], shape, "scaled")
        em.node("Add", [y, em.const("bias", _per_channel(bias, c, groups, rank))], shape, "shifted",
                output=node.outputs[0])
        em.commit(node)
        add_hint(graph, HINT_INT16, [m.name for m in em.nodes
                                     if m.name.split("/")[-1].rsplit("_", 1)[0] in _STATS
                                     or m.name.split("/")[-1] in _STATS])
        changed = True
    return changed
