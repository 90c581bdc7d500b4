"""Export a float IR :class:`~edgeq.ir.graph.Graph` back to a standard ONNX model.

Contract: ``to_onnx(graph)`` returns a ``onnx.ModelProto`` that passes
``onnx.checker.check_model`` and that onnxruntime runs with the same semantics as the
edgeq float interpreter. Every IR tensor keeps its name, so any intermediate can be
requested as an output (``outputs=``, used by :class:`edgeq.interp.ort_backend.OrtRunner`).

The IR holds ONNX ops in their newest-opset *input* form (Reduce* ``axes`` as an input is
opset 18), so the model is written at ``max(graph.opset, 18)``. edgeq-specific content is
expanded into standard ops:

* ``FullyConnected(X, W, B)``: ``Gemm(X, W, B, transB=1)`` for 2-D ``X``; otherwise
  ``MatMul(X, W^T)`` (a transposed initializer, or a Transpose node for a non-constant
  ``W``) followed by ``Add(B)``;
* ``Silu(X)``: ``Mul(X, Sigmoid(X))``;
* ``Gelu``: the ONNX ``Gelu`` op at opset >= 20, else its erf (or tanh) expansion;
* ``LSTM`` with ``layout=1``: Transposes around a ``layout=0`` LSTM (onnxruntime's CPU
  kernel supports only layout 0);
* fused clamps ``act_min``/``act_max``: the node writes a temporary tensor and a ``Clip``
  produces the IR tensor, so the IR name still denotes the clamped value.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from edgeq.errors import UsageError
from edgeq.ir.ops import FULLY_CONNECTED, GELU, SILU

logger = logging.getLogger(__name__)

#: first opset whose forms match the IR's (Reduce* axes as inputs)
MIN_EXPORT_OPSET = 18
#: first opset with the Gelu op
GELU_OPSET = 20
_INTERNAL_ATTRS = frozenset({"act_min", "act_max"})


class _Writer:
    """Accumulates nodes/initializers with names that never collide with IR names."""

    def __init__(self, graph, opset: int) -> None:
        self.graph = graph
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.taken = set(graph.tensors) | {n.name for n in graph.nodes}

    def fresh(self, base: str) -> str:
        name, i = f"{base}__edgeq", 0
        while name in self.taken:
            i += 1
            name = f"{base}__edgeq{i}"
        self.taken.add(name)
        return name

    def const(self, base: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type: str, inputs, outputs, name: str, **attrs) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name, **attrs))


def _attr_value(op_type: str, key: str, value):
    """Convert an IR attribute value into something ``onnx.helper.make_attribute`` takes."""
    from onnx import helper, numpy_helper

    if op_type == "Cast" and key == "to" and not isinstance(value, (int, np.integer)):
        return helper.np_dtype_to_tensor_dtype(np.dtype(value))
    if isinstance(value, np.ndarray):
        return numpy_helper.from_array(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    return value


def _onnx_attrs(node) -> dict:
    from onnx import helper

    out = {}
    for key, value in node.attrs.items():
        if key in _INTERNAL_ATTRS or key.startswith("_") or value is None:
            continue
        value = _attr_value(node.op_type, key, value)
        if isinstance(value, list) and not value:
            continue  # ONNX cannot infer the type of an empty list; absent means default
        try:
            helper.make_attribute(key, value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"node '{node.name}' ({node.op_type}): attribute '{key}' = "
                             f"{value!r} cannot be written to ONNX ({exc})") from None
        out[key] = value
    return out


def _emit_fully_connected(w: _Writer, node, out: str) -> None:
    x, wt = node.inputs[0], node.inputs[1]
    b = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    rank = len(w.graph.tensors[x].shape)
    if rank == 2:
        w.node("Gemm", [x, wt] + ([b] if b else []), [out], node.name, transB=1)
        return
    weight = w.graph.const(wt)
    if weight is not None:
        wt_t = w.const(f"{wt}_transposed", np.ascontiguousarray(weight.T))
    else:
        wt_t = w.fresh(f"{wt}_transposed")
        w.node("Transpose", [wt], [wt_t], w.fresh(f"{node.name}_transpose"), perm=[1, 0])
    if b is None:
        w.node("MatMul", [x, wt_t], [out], node.name)
        return
    mm = w.fresh(f"{node.name}_matmul")
    w.node("MatMul", [x, wt_t], [mm], w.fresh(f"{node.name}_matmul"))
    w.node("Add", [mm, b], [out], node.name)


def _emit_silu(w: _Writer, node, out: str) -> None:
    sig = w.fresh(f"{node.name}_sigmoid")
    w.node("Sigmoid", [node.inputs[0]], [sig], sig)
    w.node("Mul", [node.inputs[0], sig], [out], node.name)


def _emit_gelu(w: _Writer, node, out: str) -> None:
    x = node.inputs[0]
    approx = node.attrs.get("approximate", "none")
    approx = approx.decode() if isinstance(approx, bytes) else approx
    if w.opset >= GELU_OPSET:
        w.node("Gelu", [x], [out], node.name, approximate=approx)
        return
    dt = w.graph.tensors[x].dtype

    def c(base, v):
        return w.const(f"{node.name}_{base}", np.asarray(v, dtype=dt))

    def tmp(base):
        return w.fresh(f"{node.name}_{base}")

    if approx == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3, t1, t2, t3, th = tmp("cube"), tmp("poly"), tmp("sum"), tmp("scaled"), tmp("tanh")
        w.node("Pow", [x, c("three", 3.0)], [x3], x3)
        w.node("Mul", [x3, c("k", 0.044715)], [t1], t1)
        w.node("Add", [x, t1], [t2], t2)
        w.node("Mul", [t2, c("s", math.sqrt(2 / math.pi))], [t3], t3)
        w.node("Tanh", [t3], [th], th)
        inner = th
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t1, er = tmp("scaled"), tmp("erf")
        w.node("Div", [x, c("sqrt2", math.sqrt(2))], [t1], t1)
        w.node("Erf", [t1], [er], er)
        inner = er
    one, half = tmp("one_plus"), tmp("times_x")
    w.node("Add", [inner, c("one", 1.0)], [one], one)
    w.node("Mul", [x, one], [half], half)
    w.node("Mul", [half, c("half", 0.5)], [out], node.name)


def _emit_lstm(w: _Writer, node, out: str) -> None:
    """LSTM with ``layout=1`` (batch-major) as Transposes around a ``layout=0`` LSTM:
    onnxruntime's CPU LSTM implements only layout 0."""
    attrs = _onnx_attrs(node)
    if not attrs.get("layout", 0):
        w.node("LSTM", node.inputs, [out] + list(node.outputs[1:]), node.name, **attrs)
        return
    attrs["layout"] = 0
    inputs = list(node.inputs)
    for i in (0, 5, 6):  # X [batch, seq, in] and initial_h/c [batch, dir, H]: swap axes 0, 1
        if len(inputs) > i and inputs[i]:
            t = w.fresh(f"{node.name}_in{i}_seq_major")
            w.node("Transpose", [inputs[i]], [t], t, perm=[1, 0, 2])
            inputs[i] = t
    outputs = [out] + list(node.outputs[1:])
    inner = [w.fresh(f"{node.name}_out{i}_seq_major") if o else "" for i, o in enumerate(outputs)]
    w.node("LSTM", inputs, inner, node.name, **attrs)
    for i, (o, t) in enumerate(zip(outputs, inner)):
        if o:  # Y [seq, dir, batch, H] -> [batch, seq, dir, H]; Y_h/Y_c [dir, batch, H] -> [batch, dir, H]
            w.node("Transpose", [t], [o], w.fresh(f"{node.name}_out{i}_batch_major"),
                   perm=[2, 0, 1, 3] if i == 0 else [1, 0, 2])


_EXPANSIONS = {FULLY_CONNECTED: _emit_fully_connected, SILU: _emit_silu, GELU: _emit_gelu,
               "LSTM": _emit_lstm}


def _emit_node(w: _Writer, node) -> None:
    lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
    outputs = list(node.outputs)
    clamp = lo is not None or hi is not None
    if clamp:
        final = outputs[0]
        outputs[0] = w.fresh(f"{final}_unclamped")
    expand = _EXPANSIONS.get(node.op_type) if node.domain in ("", "edgeq") else None
    if expand is not None:
        expand(w, node, outputs[0])
    else:
        w.node(node.op_type, node.inputs, outputs, node.name, **_onnx_attrs(node))
        if node.domain:
            w.nodes[-1].domain = node.domain
    if clamp:
        dt = w.graph.tensors[final].dtype
        lo_name = "" if lo is None else w.const(f"{final}_min", np.asarray(lo, dtype=dt))
        hi_name = "" if hi is None else w.const(f"{final}_max", np.asarray(hi, dtype=dt))
        w.node("Clip", [outputs[0], lo_name, hi_name], [final], w.fresh(f"{node.name}_clamp"))


def _value_info(graph, name: str, with_shape: bool = True):
    from onnx import helper

    t = graph.tensors[name]
    elem = helper.np_dtype_to_tensor_dtype(t.dtype)
    return helper.make_tensor_value_info(name, elem, list(t.shape) if with_shape else None)


def to_onnx(graph, *, outputs: list[str] | None = None, opset: int | None = None):
    """Write ``graph`` as an ONNX ``ModelProto``.

    ``outputs`` names the IR tensors to expose as graph outputs (default
    ``graph.outputs``); each must be produced by a node or be a constant (graph inputs
    cannot also be ONNX outputs). ``opset`` overrides the default ``max(graph.opset, 18)``.
    """
    from onnx import helper, numpy_helper

    opset = int(opset or max(graph.opset, MIN_EXPORT_OPSET))
    wanted = list(graph.outputs) if outputs is None else list(outputs)
    bad = [n for n in wanted if n not in graph.tensors or n in graph.inputs]
    if bad:
        raise UsageError(f"to_onnx: {bad} are not tensors of graph '{graph.name}' that a node "
                         f"or constant produces; choose among its node outputs")
    w = _Writer(graph, opset)
    # a constant requested as output is written as a Constant node producing that name
    # (placed first, since nodes may read it too)
    const_outputs = [n for n in wanted if graph.is_constant(n)]
    for name in const_outputs:
        w.node("Constant", [], [name], w.fresh(f"{name}_constant"),
               value=numpy_helper.from_array(graph.tensors[name].data, name))
    for node in graph.nodes:
        _emit_node(w, node)
    # only constants some emitted node reads (an expanded FullyConnected reads a transposed
    # copy of its weight, not the IR tensor)
    used = {i for n in w.nodes for i in n.input}
    initializers = [numpy_helper.from_array(t.data, t.name) for t in graph.constants()
                    if t.name in used and t.name not in const_outputs]
    onnx_graph = helper.make_graph(
        w.nodes, graph.name or "graph",
        [_value_info(graph, n) for n in graph.inputs],
        [_value_info(graph, n, with_shape=n in graph.outputs) for n in wanted],
        initializer=initializers + w.initializers)
    opsets = [helper.make_opsetid("", opset)]
    domains = sorted({n.domain for n in graph.nodes if n.domain and n.domain != "edgeq"})
    opsets += [helper.make_opsetid(d, 1) for d in domains]
    model = helper.make_model(onnx_graph, opset_imports=opsets, producer_name="edgeq")
    # the lowest IR version that can carry this opset, so older runtimes load it too
    try:
        model.ir_version = helper.find_min_ir_version_for(opsets)
    except (KeyError, ValueError):  # a custom domain the table does not know
        model.ir_version = helper.find_min_ir_version_for(opsets[:1])
    for key, value in graph.metadata.items():
        model.metadata_props.add(key=str(key), value=str(value))
    return model
