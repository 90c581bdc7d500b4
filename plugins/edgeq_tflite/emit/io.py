"""Model I/O types of the emitted .tflite: float, int8 or uint8 at the boundary.

A QuantizedGraph has float inputs/outputs wrapped by Quantize/Dequantize nodes (or
integer I/O without them, docs/quantization.md). :func:`apply_io_dtype` rewrites the
boundary for the requested I/O type, keeping every graph input/output *name*:

* ``float32``: float I/O; integer inputs get a QUANTIZE, integer outputs a DEQUANTIZE.
* ``int8``: the boundary Quantize/Dequantize nodes are removed; the integer tensors
  take the I/O names (int16 tensors of 16x8 models stay int16).
* ``uint8``: as int8, then a uint8 tensor with zero point + 128 (same scale, same real
  values) is converted with QUANTIZE uint8 -> int8 at each input and int8 -> uint8 at
  each output, as the TF Lite converter does for ``inference_input_type=tf.uint8``.
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import Graph, Node, QDType, QuantParams, Tensor, UsageError

IO_DTYPES = ("float32", "int8", "uint8")


def rename_tensor(g: Graph, old: str, new: str) -> None:
    """Rename tensor ``old`` to ``new`` everywhere (``new`` must be free)."""
    assert new not in g.tensors, new
    t = g.tensors.pop(old)
    g.tensors[new] = Tensor(new, t.dtype, t.shape, t.data, t.quant)
    for n in g.nodes:
        n.inputs = [new if i == old else i for i in n.inputs]
        n.outputs = [new if o == old else o for o in n.outputs]
    g.inputs = [new if i == old else i for i in g.inputs]
    g.outputs = [new if o == old else o for o in g.outputs]


def _to_integer(g: Graph) -> None:
    consumers = g.consumers()
    producers = g.producers()
    for name in list(g.inputs):
        if g.tensors[name].dtype.kind != "f":  # already integer (quantized, or token ids)
            continue
        users = consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != "Quantize" or name in g.outputs:
            raise UsageError(f"input '{name}' cannot have integer I/O: it feeds "
                             f"{[n.name for n in users]} (not a single Quantize node); use "
                             "float32 I/O for this model")
        q = users[0]
        g.nodes.remove(q)
        del g.tensors[name]
        g.inputs = [q.outputs[0] if i == name else i for i in g.inputs]
        rename_tensor(g, q.outputs[0], name)
    for name in list(g.outputs):
        if g.tensors[name].dtype.kind != "f":  # already integer (quantized, or indices)
            continue
        node = producers.get(name)
        if node is None or node.op_type != "Dequantize":
            raise UsageError(f"output '{name}' cannot have integer I/O: it is produced by "
                             f"{node.op_type if node else 'no node'} (not Dequantize); use "
                             "float32 I/O for this model")
        src = node.inputs[0]
        g.nodes.remove(node)
        del g.tensors[name]
        if src in g.outputs or src in g.inputs:  # another output/input already has it
            g.nodes.append(Node(g.unique_name(f"{name}_copy"), "Identity", [src], [name]))
            t = g.tensors[src]
            g.tensors[name] = Tensor(name, t.dtype, t.shape, None, t.quant)
        else:
            rename_tensor(g, src, name)
            g.outputs = [name if o == src else o for o in g.outputs]


def _uint8(q: QuantParams) -> QuantParams:
    return QuantParams(q.scale, q.zero_point + 128, QDType.UINT8, q.axis)


def _wrap_uint8(g: Graph) -> None:
    for name in list(g.inputs):
        t = g.tensors[name]
        if t.dtype != np.int8:
            continue
        inner = g.unique_name(f"{name}_int8")
        rename_tensor(g, name, inner)
        g.tensors[name] = Tensor(name, np.uint8, t.shape, None, _uint8(t.quant))
        g.inputs = [name if i == inner else i for i in g.inputs]
        g.nodes.insert(0, Node(g.unique_name(f"{name}_to_int8"), "Quantize", [name], [inner]))
    for name in list(g.outputs):
        t = g.tensors[name]
        if t.dtype != np.int8:
            continue
        inner = g.unique_name(f"{name}_int8")
        rename_tensor(g, name, inner)
        g.tensors[name] = Tensor(name, np.uint8, t.shape, None, _uint8(t.quant))
        g.outputs = [name if o == inner else o for o in g.outputs]
        g.nodes.append(Node(g.unique_name(f"{name}_to_uint8"), "Quantize", [inner], [name]))


def _to_float(g: Graph) -> None:
    for name in list(g.inputs):
        t = g.tensors[name]
        if t.quant is None:
            continue
        inner = g.unique_name(f"{name}_quantized")
        rename_tensor(g, name, inner)
        g.tensors[name] = Tensor(name, np.float32, t.shape)
        g.inputs = [name if i == inner else i for i in g.inputs]
        g.nodes.insert(0, Node(g.unique_name(f"{name}_quantize"), "Quantize", [name], [inner]))
    for name in list(g.outputs):
        t = g.tensors[name]
        if t.quant is None:
            continue
        inner = g.unique_name(f"{name}_quantized")
        rename_tensor(g, name, inner)
        g.tensors[name] = Tensor(name, np.float32, t.shape)
        g.outputs = [name if o == inner else o for o in g.outputs]
        g.nodes.append(Node(g.unique_name(f"{name}_dequantize"), "Dequantize", [inner], [name]))


def apply_io_dtype(graph: Graph, io_dtype: str) -> Graph:
    """A copy of ``graph`` with the requested boundary (see the module docstring)."""
    if io_dtype not in IO_DTYPES:
        raise UsageError(f"I/O type '{io_dtype}' is not one of {', '.join(IO_DTYPES)}")
    g = graph.copy()
    if io_dtype == "float32":
        _to_float(g)
    else:
        _to_integer(g)
        if io_dtype == "uint8":
            _wrap_uint8(g)
    g.toposort()
    return g
