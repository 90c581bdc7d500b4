"""Accurate int16 square roots from TFLite's int16 RSQRT.

``lower_sqrt`` writes ``sqrt(x) = x · rsqrt(x)``. TFLite's int16 RSQRT is a 513-entry
lookup table over the input's whole range with linear interpolation
(``LUTPopulate<int16_t>``, kernels/elementwise.cc); ``1/sqrt`` is so curved near 0 that
the table is only accurate above about 1/50 of the range, and a power spectrum spends
most of its values far below that (measured on silero VAD: 3 dB SQNR for the
magnitudes). At build time, when the rsqrt runs in int16, the pair is expanded into
``BRANCHES`` branches, each with its own table over a range 50× smaller than the last::

    T_0 = max(x),  T_i = T_0 / 50^i,  T_BRANCHES = 0
    c_i = Clip(x, T_{i+1}, T_i)         (its int16 range [0, T_i]: the table covers it)
    f_i = Mul(x, Rsqrt(c_i))
    y   = Max(Clip(f_0, 0, √T_0), …)    (Clip(f_i, 0, √T_i), requantized to one scale)

For ``x`` in ``[T_{j+1}, T_j]`` branch ``j`` gives ``sqrt(x)`` from the accurate part of
its table; a branch with a larger window gives ``x/sqrt(T_{i+1}) <= sqrt(x)``, one with a
smaller window saturates at ``sqrt(T_i) <= sqrt(x)``; so the maximum is ``sqrt(x)``
exactly in float and to table accuracy in integers. Three branches reach
``T_0 / 125000``, below int16's step ``T_0 / 32767``. All ranges follow from ``x``'s range,
so the expansion needs no calibration of its own.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import Emitter

BRANCHES = 3
RATIO = 50.0


def expand(graph: Graph, pairs: dict[str, str], x_range) -> tuple[Graph, dict, set[str]]:
    """Expand ``{rsqrt output: its input}`` pairs (see module docstring). Returns the new
    graph, range overrides and the new node names (all int16)."""
    g = graph.copy()
    overrides: dict[str, tuple[float, float]] = {}
    new_nodes: set[str] = set()
    for r, x in pairs.items():
        producers, consumers = g.producers(), g.consumers()
        rs = producers.get(r)
        users = consumers.get(r, [])
        if rs is None or rs.op_type != "Rsqrt" or len(users) != 1 or users[0].op_type != "Mul":
            continue
        mul = users[0]
        if sorted(mul.inputs) != sorted([x, r]):
            continue
        _, top = x_range(x)
        if top <= 0:
            continue
        y = mul.outputs[0]
        shape = g.tensors[y].shape
        em = Emitter(g, rs.name)
        bounds = [top / RATIO ** i for i in range(BRANCHES)] + [0.0]
        outs = []
        for i in range(BRANCHES):
            hi, lo = bounds[i], bounds[i + 1]
            c = em.node("Clip", [x, em.const(f"lo{i}", np.float32(lo)), em.const(f"hi{i}", np.float32(hi))],
                        shape, f"window{i}")
            rr = em.node("Rsqrt", [c], shape, f"rsqrt{i}")
            f = em.node("Mul", [x, rr], shape, f"sqrt{i}")
            s = em.node("Clip", [f, em.const(f"zero{i}", np.float32(0.0)),
                                 em.const(f"cap{i}", np.float32(math.sqrt(hi)))], shape, f"shared{i}")
            overrides[c] = (0.0, hi)
            # the smallest window's rsqrt must reach the smallest non-zero int16 input
            r_hi = 1.0 / math.sqrt(lo) if lo > 0 else 1.0 / math.sqrt(top / 32767.0)
            overrides[rr] = (0.0, r_hi)
            overrides[f] = (0.0, math.sqrt(hi))
            overrides[s] = (0.0, math.sqrt(top))
            outs.append(s)
        em.node("Max", outs, shape, "sqrt", output=y)
        # splice the branches in place of the Rsqrt/Mul pair
        i_rs = g.nodes.index(rs)
        g.nodes.remove(mul)
        g.nodes[i_rs:i_rs + 1] = em.nodes
        del g.tensors[r]
        new_nodes |= {n.name for n in em.nodes}
        overrides[y] = (0.0, math.sqrt(top))
    return g, overrides, new_nodes
