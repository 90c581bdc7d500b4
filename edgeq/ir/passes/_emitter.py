"""Helpers shared by the lowering passes (``decompose_*``, ``unroll_*``, ``lower_*``)
that rewrite a canonical float graph into ops with integer kernels before quantization.

A lowering pass edits the graph in place, keeps ``Graph.nodes`` topologically ordered
(new nodes are inserted where the replaced node was) and keeps the replaced node's
output tensor names, so graph outputs and downstream consumers are untouched.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor


class Emitter:
    """Collects the nodes replacing one node; ``commit`` splices them in its place."""

    def __init__(self, graph: Graph, prefix: str) -> None:
        self.graph = graph
        self.prefix = prefix
        self.nodes: list[Node] = []
        self._taken = {n.name for n in graph.nodes} | set(graph.tensors)

    def unique(self, base: str) -> str:
        name, i = base, 1
        while name in self._taken:
            name, i = f"{base}_{i}", i + 1
        self._taken.add(name)
        return name

    def const(self, suffix: str, value, dtype=np.float32) -> str:
        name = self.unique(f"{self.prefix}/{suffix}")
        data = np.asarray(value, dtype)
        self.graph.tensors[name] = Tensor(name, data.dtype, data.shape, data)
        return name

    def node(self, op_type: str, inputs: list[str], shape: tuple[int, ...], suffix: str, *,
             output: str | None = None, dtype=np.float32, **attrs) -> str:
        """Append ``op_type(inputs)``; its output is ``output`` (an existing tensor name)
        or a new tensor ``prefix/suffix`` of ``shape``."""
        if output is None:
            output = self.unique(f"{self.prefix}/{suffix}")
            self.graph.tensors[output] = Tensor(output, dtype, shape)
        self.nodes.append(Node(self.unique(f"{self.prefix}/{suffix}"), op_type, list(inputs), [output], attrs))
        return output

    def commit(self, replaced: Node) -> None:
        i = self.graph.nodes.index(replaced)
        self.graph.nodes[i:i + 1] = self.nodes


def shape_of(graph: Graph, name: str) -> tuple[int, ...]:
    return graph.tensors[name].shape


def reduced_shape(shape: tuple[int, ...], axes: list[int]) -> tuple[int, ...]:
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


# -- quantization hints left by lowering passes --------------------------------------
# Lowering passes record in ``graph.metadata`` (JSON strings) what the quantizer needs
# to know about the ops they created:
#   HINT_INT16: node names whose arithmetic needs int16 (e.g. an LSTM cell state)
#   HINT_MASK_ADDS: [add node, scores input, mask input] of attention-mask additions
#   HINT_RSQRT_OF: {rsqrt output: its input} where the rsqrt's range must cover the
#                  input's whole quantized range (sqrt(x) lowered as x * rsqrt(x))
HINT_INT16 = "edgeq.lowering.int16"
#: node names that carry a transformer's residual stream (see decompose_layernorm)
HINT_INT16_STREAM = "edgeq.lowering.int16_stream"
HINT_MASK_ADDS = "edgeq.lowering.mask_adds"
HINT_RSQRT_OF = "edgeq.lowering.rsqrt_of"
#: {LSTM node: its unrolled tensors and node names} (see unroll_lstm)
HINT_LSTM = "edgeq.lowering.lstm"
#: tensors of a signal path that ends in a magnitude spectrum (see lower_sqrt)
HINT_SPECTRUM = "edgeq.lowering.spectrum"


def get_hint(graph: Graph, key: str, default):
    import json

    return json.loads(graph.metadata[key]) if key in graph.metadata else default


def add_hint(graph: Graph, key: str, value) -> None:
    """Append ``value`` (list hints) or merge it (dict hints) into a metadata hint."""
    import json

    current = get_hint(graph, key, {} if isinstance(value, dict) else [])
    if isinstance(value, dict):
        current.update(value)
    else:
        current.extend(value)
    graph.metadata[key] = json.dumps(current)
