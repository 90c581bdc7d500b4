"""GELU with int16 activations.

TFLite's GELU kernel is an int8/uint8 lookup table; there is no int16 GELU. A Gelu node
promoted to int16 is therefore expanded, at build time, into its tanh form (ONNX
Gelu-20 ``approximate="tanh"``; Hendrycks & Gimpel 2016, eq. 2) whose ops all have int16
kernels::

    y = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))

    x2 = Mul(x, x); x3 = Mul(x2, x); u = Add(x, Mul(x3, 0.044715))
    t  = Tanh(Mul(u, √(2/π))); w = Add(t, 1); y = Mul(Mul(x, w), 0.5)

The tanh form differs from the erf form by less than 5e-4 (absolute) everywhere, well
under the int8 GELU's own error. The new tensors need no calibration: with the input's
range ``[lo, hi]`` every intermediate is a monotonic or even function of ``x`` whose
range follows from the endpoints (and 0), and int16 ranges are min/max ranges anyway.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter

C = math.sqrt(2.0 / math.pi)
K = 0.044715


def _span(f, lo: float, hi: float) -> tuple[float, float]:
    xs = np.linspace(lo, hi, 4097)
    v = f(xs)
    return float(min(v.min(), 0.0)), float(max(v.max(), 0.0))


def expand(graph: Graph, nodes: set[str], input_range) -> tuple[Graph, dict, set[str]]:
    """A copy of ``graph`` with the named Gelu nodes in tanh form; returns the graph, range
    overrides for the new tensors, and the names of the new nodes (all int16).
    ``input_range(tensor) -> (lo, hi)`` gives a Gelu input's calibrated range."""
    g = graph.copy()
    overrides: dict[str, tuple[float, float]] = {}
    new_nodes: set[str] = set()
    for name in sorted(nodes):
        node = g.node_by_name(name)
        if node.op_type != "Gelu":
            continue
        x, y = node.inputs[0], node.outputs[0]
        lo, hi = input_range(x)
        shape = g.tensors[x].shape
        em = Emitter(g, name)
        x2 = em.node("Mul", [x, x], shape, "x2")
        x3 = em.node("Mul", [x2, x], shape, "x3")
        cx3 = em.node("Mul", [x3, em.const("k", np.float32(K))], shape, "cubic")
        u = em.node("Add", [x, cx3], shape, "inner")
        v = em.node("Mul", [u, em.const("c", np.float32(C))], shape, "scaled")
        t = em.node("Tanh", [v], shape, "tanh")
        w = em.node("Add", [t, em.const("one", np.float32(1.0))], shape, "one_plus")
        xw = em.node("Mul", [x, w], shape, "product")
        em.node("Mul", [xw, em.const("half", np.float32(0.5))], shape, "half", output=y)
        em.commit(node)
        new_nodes |= {n.name for n in em.nodes}
        inner = lambda s: s + K * s ** 3  # noqa: E731
        overrides.update({
            x2: _span(lambda s: s * s, lo, hi), x3: _span(lambda s: s ** 3, lo, hi),
            cx3: _span(lambda s: K * s ** 3, lo, hi), u: _span(inner, lo, hi),
            v: _span(lambda s: C * inner(s), lo, hi), t: (-1.0, 1.0), w: (0.0, 2.0),
            xw: _span(lambda s: s * (1 + np.tanh(C * inner(s))), lo, hi),
        })
    return g, overrides, new_nodes
