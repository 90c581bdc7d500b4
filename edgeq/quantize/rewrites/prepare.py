"""Lowering: rewrite a canonical float graph into ops that have integer kernels,
before calibration, and run lowered graphs in float.

:func:`lower` copies the graph and runs the lowering passes (``edgeq/ir/passes``) in a
fixed order; the result is deterministic, so statistics collected on it (keyed by its
tensor names and ``LOWERING_VERSION``) can be reused by later builds. The passes leave
hints for the quantizer in ``graph.metadata`` (see ``edgeq/ir/passes/_emitter.py``).

Lowered graphs contain two ops that are not ONNX ops, ``Rsqrt`` and
``SquaredDifference`` (docs/quantization.md); :func:`executable` rewrites them into
ONNX ops (``Reciprocal(Sqrt(max(x, tiny)))``, ``Mul(d, d)`` with ``d = a - b``)
writing the same tensor names, so the float interpreter and onnxruntime can run any
lowered graph and return every tensor the quantized graph has.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.interp.float_ops.rsqrt import RSQRT_FLOOR  # the float Rsqrt's floor (its docstring)
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes import (
    decompose_instance_norm,
    decompose_layernorm,
    hoist_input_cast,
    lower_attention_mask,
    lower_conv1d,
    lower_div,
    lower_div_const,
    lower_einsum,
    lower_gather_elements,
    lower_gather_nd,
    lower_hardsigmoid,
    lower_silu,
    lower_l2norm,
    lower_mask_select,
    lower_nan_guard,
    lower_pow,
    lower_prelu,
    lower_reduce_sum,
    lower_sqrt,
    unroll_gru,
    unroll_lstm,
)
from edgeq.ir.passes._emitter import (HINT_INT16, HINT_INT16_STREAM, HINT_MASK_ADDS, HINT_RSQRT_OF,
                                      HINT_SPECTRUM, get_hint)

log = logging.getLogger(__name__)

#: bump when a pass changes the lowered graph (invalidates cached statistics)
LOWERING_VERSION = 12

PASSES = [
    ("hoist_input_cast", hoist_input_cast.run),
    ("lower_gather_nd", lower_gather_nd.run),  # before lower_mask_select, which replays Gathers
    ("lower_mask_select", lower_mask_select.run),  # before lower_attention_mask clamps its bias
    ("lower_nan_guard", lower_nan_guard.run),
    ("lower_l2norm", lower_l2norm.run),
    ("lower_div_const", lower_div_const.run),
    ("lower_prelu", lower_prelu.run),
    ("lower_einsum", lower_einsum.run),
    ("lower_reduce_sum", lower_reduce_sum.run),
    ("lower_div", lower_div.run),  # after lower_div_const: what is left divides by activations
    ("lower_pow", lower_pow.run),
    ("lower_conv1d", lower_conv1d.run),  # before lower_sqrt, whose hints name the 2-D convs
    ("lower_sqrt", lower_sqrt.run),
    ("lower_hardsigmoid", lower_hardsigmoid.run),
    ("lower_silu", lower_silu.run),
    ("lower_gather_elements", lower_gather_elements.run),
    ("decompose_layernorm", decompose_layernorm.run),
    ("decompose_instance_norm", decompose_instance_norm.run),
    ("unroll_lstm", unroll_lstm.run),
    ("unroll_gru", unroll_gru.run),
    ("lower_attention_mask", lower_attention_mask.run),
]



def lower(graph: Graph) -> Graph:
    """A lowered copy of ``graph`` (see module docstring)."""
    g = graph.copy()
    for name, run in PASSES:
        if run(g):
            log.debug("lowering pass %s changed the graph", name)
    g.toposort()
    return g


class Hints:
    """The quantization hints a lowered graph carries."""

    def __init__(self, graph: Graph) -> None:
        names = {n.name for n in graph.nodes}
        self.int16 = [n for n in get_hint(graph, HINT_INT16, []) if n in names]
        self.int16_stream = [n for n in get_hint(graph, HINT_INT16_STREAM, []) if n in names]
        self.mask_adds = [tuple(e) for e in get_hint(graph, HINT_MASK_ADDS, []) if e[0] in names]
        self.rsqrt_of = dict(get_hint(graph, HINT_RSQRT_OF, {}))
        self.spectrum = set(get_hint(graph, HINT_SPECTRUM, []))


def executable(graph: Graph) -> Graph:
    """``graph`` with Rsqrt / SquaredDifference expressed in ONNX ops (same tensor names)."""
    if not any(n.op_type in ("Rsqrt", "SquaredDifference") for n in graph.nodes):
        return graph
    g = Graph(graph.name, dict(graph.tensors), [], list(graph.inputs), list(graph.outputs),
              graph.opset, dict(graph.metadata))
    floor = None
    for n in graph.nodes:
        if n.op_type == "Rsqrt":
            if floor is None:
                floor = g.add_constant("rsqrt_floor", np.array(RSQRT_FLOOR, np.float32))
            x, y = n.inputs[0], n.outputs[0]
            shape = g.tensors[y].shape
            m = _tmp(g, f"{y}/clamped", shape)
            s = _tmp(g, f"{y}/sqrt", shape)
            g.nodes += [Node(f"{n.name}/max", "Max", [x, floor], [m]),
                        Node(f"{n.name}/sqrt", "Sqrt", [m], [s]),
                        Node(n.name, "Reciprocal", [s], [y])]
        elif n.op_type == "SquaredDifference":
            y = n.outputs[0]
            d = _tmp(g, f"{y}/difference", g.tensors[y].shape)
            g.nodes += [Node(f"{n.name}/sub", "Sub", list(n.inputs), [d]),
                        Node(n.name, "Mul", [d, d], [y])]
        else:
            g.nodes.append(n)
    return g


def _tmp(g: Graph, base: str, shape) -> str:
    name = g.unique_name(base)
    g.tensors[name] = Tensor(name, np.float32, shape)
    return name
