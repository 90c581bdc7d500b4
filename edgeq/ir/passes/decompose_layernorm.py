"""Decompose ``LayerNormalization`` into ops with integer kernels.

``y = (x - mean) * rsqrt(var + eps) * gamma + beta`` over the axes ``axis..rank-1``
(ONNX LayerNormalization-17) becomes the op sequence the TFLite converter produces for
Keras' LayerNormalization (tensorflow/python/ops/nn_impl.py ``moments`` +
``batch_normalization``)::

    mean = ReduceMean(x, axes)                 MEAN
    d    = Sub(x, mean)                        SUB
    sq   = Mul(d, d)                           MUL
    var  = ReduceMean(sq, axes)                MEAN
    r    = Rsqrt(Add(var, eps))                ADD, RSQRT
    n    = Mul(d, r)                           MUL
    y    = Add(Mul(n, gamma), beta)            MUL, ADD

The statistics path (``mean`` … ``n``) is hinted int16 (``HINT_INT16``): squares of
activations span twice the octaves of the activations, and transformer activations
have outlier channels, so an 8-bit variance loses the rows with small spread (measured
on MiniLM: 11 dB SQNR for the int8 variance of the embedding LayerNorm). ``Mul(d, d)``
rather than SQUARED_DIFFERENCE because the latter has no int16 kernel. ``gamma`` = 1 and
``beta`` = 0 are skipped. The node's output keeps its name.

The residual stream around a LayerNorm is hinted separately (``HINT_INT16_STREAM``):
the residual Add feeding it, the FullyConnected layers feeding that Add, and the
``gamma``/``beta`` ops writing its output. Transformer residual streams carry outlier
channels (MiniLM's FFN outputs reach ±200 next to values around ±2), which an int8
per-tensor scale cannot hold: all-int8 MiniLM reaches a mean cosine of 0.84, 0.99 with
this stream in 16x8.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, HINT_INT16_STREAM, Emitter, add_hint, reduced_shape, shape_of


def _stream_nodes(graph: Graph, x: str) -> list[str]:
    """The residual Add writing ``x`` and the FullyConnected layers writing its inputs."""
    producers = graph.producers()
    add = producers.get(x)
    if add is None or add.op_type != "Add":
        return []
    names = [add.name]
    for i in add.inputs:
        src = producers.get(i)
        if src is not None and src.op_type == "FullyConnected":
            names.append(src.name)
    return names


def statistics(em: Emitter, x: str, shape: tuple[int, ...], axes: list[int], eps: float) -> tuple[str, str]:
    """Emit the normalisation statistics of ``x`` over ``axes``: ``(d, r)`` with
    ``d = x − mean(x)`` and ``r = rsqrt(mean(d·d) + eps)`` (nodes ``mean``, ``centered``,
    ``squared``, ``variance``, ``variance_eps``, ``rstd``; decompose_instance_norm
    shares them)."""
    rshape = reduced_shape(shape, axes)
    ax = em.const("axes", axes, np.int64)
    mean = em.node("ReduceMean", [x, ax], rshape, "mean", keepdims=1)
    d = em.node("Sub", [x, mean], shape, "centered")
    sq = em.node("Mul", [d, d], shape, "squared")
    var = em.node("ReduceMean", [sq, ax], rshape, "variance", keepdims=1)
    ve = em.node("Add", [var, em.const("epsilon", eps)], rshape, "variance_eps")
    return d, em.node("Rsqrt", [ve], rshape, "rstd")


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "LayerNormalization" and n.domain == ""]:
        x = node.inputs[0]
        shape = shape_of(graph, x)
        rank = len(shape)
        axis = int(node.attr("axis", -1)) % rank
        axes = list(range(axis, rank))
        eps = float(node.attr("epsilon", 1e-5))
        gamma = graph.const(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
        beta = graph.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        if (len(node.inputs) > 1 and node.inputs[1] and gamma is None) or \
                (len(node.inputs) > 2 and node.inputs[2] and beta is None):
            continue  # non-constant scale/bias: leave the op for the target to refuse
        if any(extra and any(extra in n.inputs for n in graph.nodes) or extra in graph.outputs
               for extra in node.outputs[1:]):
            continue  # Mean / InvStdDev outputs (training-only) are read: keep the op
        em = Emitter(graph, node.name)
        d, r = statistics(em, x, shape, axes, eps)
        steps = []
        if gamma is not None and not np.all(gamma == 1.0):
            steps.append(("Mul", node.inputs[1], "scaled"))
        if beta is not None and not np.all(beta == 0.0):
            steps.append(("Add", node.inputs[2], "shifted"))
        out = node.outputs[0]
        y = em.node("Mul", [d, r], shape, "normalized", output=None if steps else out)
        for i, (op, operand, suffix) in enumerate(steps):
            y = em.node(op, [y, operand], shape, suffix, output=out if i == len(steps) - 1 else None)
        stream = _stream_nodes(graph, x) + [n.name for n in em.nodes if n.outputs[0] == out or
                                            n.name.split("/")[-1].split("_")[0] in ("scaled", "shifted")]
        em.commit(node)
        add_hint(graph, HINT_INT16_STREAM, stream)
        add_hint(graph, HINT_INT16, [n.name for n in em.nodes if n.name.split("/")[-1].split("_")[0] in
                                     ("mean", "centered", "squared", "variance", "rstd", "normalized")
                                     and n.outputs[0] != out])
        changed = True
    return changed
