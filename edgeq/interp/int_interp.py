"""The integer simulator: runs a quantized :class:`~edgeq.ir.graph.Graph` (the contract of
docs/quantization.md) with integer-only arithmetic, one kernel per op
(``edgeq/interp/integer_ops/``), bit-exact with TFLite's reference kernels.

Contract of :func:`run_quantized`:

* Default (``integer_io=False``): feeds are float arrays and the returned graph outputs
  are float32. A graph with float I/O converts at its own boundary ``Quantize`` /
  ``Dequantize`` nodes; a graph with integer I/O has its float feeds quantized with the
  input tensors' QuantParams (TFLite QUANTIZE rounding) and its integer outputs
  dequantized. Integer inputs without QuantParams (token ids, indices) are passed
  through unchanged in either mode.
* ``integer_io=True``: feeds and outputs are the integer values at the boundary. With an
  integer-I/O graph they pass through unchanged. With a float-I/O graph, a feed is the
  integer tensor produced by the input's boundary ``Quantize`` node (that node is
  skipped) and an output is the integer tensor consumed by the final ``Dequantize``.
* ``outputs=`` may name any tensors; intermediates are returned as stored (integer
  arrays for quantized tensors, float for float ones).
* Float fallback: a node none of whose tensors carries QuantParams (a node a QuantSpec
  left in float, between ``Dequantize`` and ``Quantize``, or shape arithmetic on plain
  integers) runs with the float interpreter's kernel; every other node runs with its
  integer kernel.
* Missing/misshaped feeds raise :class:`~edgeq.errors.ShapeError`; an op without an
  integer kernel, or an unsupported dtype combination, raises
  :class:`~edgeq.errors.UnsupportedOpError` naming the node and dtypes.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops.quantize import float_to_int

_BOUNDARY = ("Quantize", "Dequantize")


class Context:
    """Per-run state handed to kernels: the graph and a per-node cache of prepared params."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.cache: dict = {}


def _boundaries(graph):
    """Map graph input -> its boundary Quantize node, graph output -> its Dequantize node."""
    consumers = graph.consumers()
    producers = graph.producers()
    in_q = {}
    for name in graph.inputs:
        users = consumers.get(name, [])
        if (graph.tensors[name].dtype.kind == "f" and len(users) == 1
                and users[0].op_type == "Quantize" and name not in graph.outputs):
            in_q[name] = users[0]
    out_dq = {}
    for name in graph.outputs:
        node = producers.get(name)
        if node is not None and node.op_type == "Dequantize":
            out_dq[name] = node
    return in_q, out_dq


def kernel_for(graph, node):
    """The integer kernel of ``node``, or the float one for an unquantized (fallback) node."""
    if node.op_type in _BOUNDARY or any(
            graph.tensors[n].quant is not None
            for n in list(node.inputs) + list(node.outputs) if n and n in graph.tensors):
        return INTEGER_OPS.lookup(node)
    return FLOAT_OPS.lookup(node)


def _check(name: str, arr: np.ndarray, tensor) -> np.ndarray:
    if tuple(arr.shape) != tensor.shape:
        raise ShapeError(f"input '{name}': got shape {tuple(arr.shape)}, the quantized model "
                         f"expects {tensor.shape}")
    return arr


def run_quantized(graph, feeds: Mapping[str, np.ndarray], outputs: list[str] | None = None,
                  integer_io: bool = False) -> dict[str, np.ndarray]:
    """Run ``graph`` with integer kernels; see the module docstring for the I/O contract."""
    unknown = set(feeds) - set(graph.inputs)
    if unknown:
        raise ShapeError(f"unknown input(s) {sorted(unknown)}; the model's inputs are {graph.inputs}")
    in_q, out_dq = _boundaries(graph) if integer_io else ({}, {})
    values: dict[str, np.ndarray] = {t.name: t.data for t in graph.constants()}
    skip: set[int] = set()
    for name in graph.inputs:
        if name not in feeds:
            raise ShapeError(f"missing input '{name}'; the model expects inputs "
                             f"{', '.join(graph.inputs)}")
        arr = np.asarray(feeds[name])
        t = graph.tensors[name]
        if name in in_q:  # integer feed for the tensor after the boundary Quantize
            qnode = in_q[name]
            qt = graph.tensors[qnode.outputs[0]]
            values[qt.name] = _check(name, arr, qt).astype(qt.dtype, copy=False)
            skip.add(id(qnode))
        elif t.dtype.kind == "f":
            values[name] = _check(name, arr, t).astype(t.dtype, copy=False)
        elif integer_io or t.quant is None:  # integer data inputs (token ids) pass through
            values[name] = _check(name, arr, t).astype(t.dtype, copy=False)
        else:  # integer-I/O graph fed with floats: quantize like TFLite QUANTIZE
            qp = t.quant
            shape = qp.broadcast_shape(arr.ndim)
            values[name] = float_to_int(_check(name, arr, t), qp.scale.reshape(shape),
                                        qp.zero_point.reshape(shape), t.dtype)

    wanted = list(outputs) if outputs is not None else list(graph.outputs)
    fetch = {w: (out_dq[w].inputs[0] if w in out_dq and outputs is None else w) for w in wanted}
    skip |= {id(out_dq[w]) for w in wanted if w in out_dq and outputs is None}
    needed = set(fetch.values())

    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_use[name] = i
    ctx = Context(graph)
    for i, node in enumerate(graph.nodes):
        if id(node) in skip:
            continue
        kernel = kernel_for(graph, node)
        args = [values[name] if name else None for name in node.inputs]
        results = kernel(node, args, ctx)
        for name, value in zip(node.outputs, results):
            if name:
                values[name] = value
        for name in node.inputs:  # free intermediates after their last use
            if (name and last_use.get(name) == i and name not in needed
                    and not graph.is_constant(name)):
                values.pop(name, None)

    result = {}
    for w in wanted:
        v = values[fetch[w]]
        t = graph.tensors[fetch[w]]
        if (outputs is None and not integer_io and w in graph.outputs and t.quant is not None
                and v.dtype.kind in "iu"):
            qp = t.quant
            shape = qp.broadcast_shape(v.ndim)
            v = ((v.astype(np.int64) - qp.zero_point.reshape(shape))
                 * qp.scale.astype(np.float64).reshape(shape)).astype(np.float32)
        result[w] = v
    return result
