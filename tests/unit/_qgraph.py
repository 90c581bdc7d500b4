"""Build one-node quantized edgeq graphs for kernel tests and run them in the simulator."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from edgeq.interp.int_interp import Context
from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.types import QDType, QuantParams


def qp(scale, zero_point=0, dtype="int8", axis=None) -> QuantParams:
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    zp = np.atleast_1d(np.asarray(zero_point, np.int64))
    if zp.size == 1 and scale.size > 1:
        zp = np.repeat(zp, scale.size)
    return QuantParams(scale, zp, QDType(dtype), axis)


class In:
    """A node input: a runtime value (``data``) or a constant (``const=True``)."""

    def __init__(self, data, q: QuantParams | None = None, *, const: bool = False, name: str = ""):
        self.data = np.asarray(data)
        self.q = q
        self.const = const
        self.name = name


def node_graph(op_type: str, inputs: Sequence[In | None], out_shapes: Sequence[tuple],
               out_quants: Sequence[QuantParams | None], out_dtypes=None, **attrs) -> Graph:
    g = Graph(name=op_type)
    names = []
    for i, inp in enumerate(inputs):
        if inp is None:
            names.append("")
            continue
        name = inp.name or f"in{i}"
        g.tensors[name] = Tensor(name, inp.data.dtype, inp.data.shape,
                                 inp.data if inp.const else None, inp.q)
        if not inp.const:
            g.inputs.append(name)
        names.append(name)
    outs = []
    for j, (shape, q) in enumerate(zip(out_shapes, out_quants)):
        dtype = (out_dtypes[j] if out_dtypes else None) or (q.dtype.numpy if q else np.float32)
        name = f"out{j}"
        g.tensors[name] = Tensor(name, dtype, shape or (), None, q)  # shape: informative
        outs.append(name)
    g.nodes.append(Node("n0", op_type, names, outs, dict(attrs)))
    g.outputs = outs
    return g


def run(op_type: str, inputs: Sequence[In | None], out_shapes, out_quants, out_dtypes=None,
        **attrs) -> list[np.ndarray]:
    """Build the one-node graph and evaluate its kernel directly."""
    g = node_graph(op_type, inputs, out_shapes, out_quants, out_dtypes, **attrs)
    node = g.nodes[0]
    args = [None if inp is None else inp.data for inp in inputs]
    return INTEGER_OPS.lookup(node)(node, args, Context(g))
