"""ONNX import: an ONNX model file (or ``ModelProto``) to a static-shape float
:class:`~edgeq.ir.graph.Graph`.

Contract of :func:`import_onnx`:

* Accepts ONNX opsets 11–21 of the default domain (older models are upgraded with
  onnx's version converter when it can; newer ones are refused). Weights in external
  data files next to the model load with it.
* Every tensor of the result has a static shape: from the model's own static dims,
  or from ``input_shapes`` (``{name: (1, 3, 224, 224)}``) for dynamic ones.
* Constants are folded (shape subgraphs included, see
  :mod:`edgeq.ir.passes.fold_constants`), ``If`` nodes with a constant condition are
  specialised to their branch, dead nodes are removed, and model-local functions are
  inlined.
* Ops come out in the IR's newest-opset *input* form (see :mod:`edgeq.ir.graph`):
  attributes that became inputs (Clip min/max, Pad pads/value, Slice starts/ends/axes,
  Split split, Squeeze/Unsqueeze axes, Reduce* axes, TopK k) are constant inputs;
  Split always has its split sizes, Squeeze its axes; Resize's empty roi/scales
  placeholders are omitted; pre-13 Softmax/LogSoftmax/Hardmax (which flatten the
  trailing dims) become Reshape → op(last axis) → Reshape. ``graph.opset`` is
  :data:`IR_OPSET`; the model's own opset is kept in ``metadata["source_opset"]``.
* Errors: a missing, truncated or garbage file → ModelLoadError naming the file; a
  dynamic dim with no shape given → ShapeError naming the input and dim and showing
  ``--input NAME:…`` / ``input_shapes=``; a malformed ``input_shapes`` → UsageError;
  Loop/Scan or an If whose condition is not constant → UnsupportedOpError.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeq.errors import ModelLoadError, ShapeError, UnsupportedOpError, first_line
from edgeq.ir import shapes as shape_utils
from edgeq.ir.onnx_checks import check_external_data, check_structure
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes.fold_constants import static_shape

logger = logging.getLogger(__name__)

MIN_OPSET = 11
MAX_OPSET = 21
#: the ONNX opset whose op forms the IR uses
IR_OPSET = 21

#: op -> [(attribute that became an input, input index, dtype or "x" = dtype of input 0)]
_ATTR_TO_INPUT = {
    "Clip": [("min", 1, "x"), ("max", 2, "x")],
    "Pad": [("pads", 1, np.int64), ("value", 2, "x")],
    "Slice": [("starts", 1, np.int64), ("ends", 2, np.int64), ("axes", 3, np.int64)],
    "Split": [("split", 1, np.int64)],
    "Squeeze": [("axes", 1, np.int64)],
    "Unsqueeze": [("axes", 1, np.int64)],
    "TopK": [("k", 1, np.int64)],
    **{op: [("axes", 1, np.int64)] for op in (
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")},
}
#: attributes with no meaning in inference (dropped)
_DROP_ATTRS = {"Dropout": ("ratio", "is_test"), "BatchNormalization": ("spatial", "is_test", "consumed_inputs")}


def import_onnx(model: str | os.PathLike | onnx.ModelProto,
                input_shapes: Mapping[str, object] | None = None) -> Graph:
    """Import an ONNX model into a static-shape IR graph (see the module contract)."""
    shapes = shape_utils.normalize_input_shapes(input_shapes)
    proto, source = load_model_proto(model)
    proto = _prepare(proto, source)
    resolved = shape_utils.specialize_inputs(proto, shapes, source=source)
    try:
        proto = shape_utils.infer_static_shapes(
            proto, source=source, check=lambda m: _reject_control_flow(m, source))
    except ShapeError:
        _reject_custom_domains(proto, source)  # the likelier cause, said plainly
        raise
    graph = _to_ir(proto, source)
    graph.metadata["input_shapes"] = ";".join(f"{k}:{shape_utils.format_shape(v)}" for k, v in resolved.items())
    logger.info("imported %s: %d nodes, %d tensors", source, len(graph.nodes), len(graph.tensors))
    return graph


# -- loading ------------------------------------------------------------------------
def load_model_proto(model: str | os.PathLike | onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """Read and sanity-check an ONNX model; returns ``(proto, source name)``."""
    if isinstance(model, onnx.ModelProto):
        source = "<ModelProto>"
        proto = onnx.ModelProto()
        proto.CopyFrom(model)
        for init in proto.graph.initializer:
            if init.data_location == onnx.TensorProto.EXTERNAL:
                raise ModelLoadError(
                    f"{source}: initializer '{init.name}' keeps its data in an external file, "
                    f"which a ModelProto cannot locate; pass the model's file path instead")
    else:
        path = Path(model)
        source = str(path)
        if not path.exists():
            raise ModelLoadError(f"{source}: no such file; check the model path")
        if not path.is_file():
            raise ModelLoadError(f"{source}: is not a file (a directory?); pass the .onnx file")
        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:
            raise ModelLoadError(f"{source}: not a readable ONNX model ({first_line(exc)}); "
                                 f"the file is truncated, corrupt or not ONNX") from None
        check_external_data(proto, source, path.parent)
        try:
            from onnx.external_data_helper import load_external_data_for_model

            load_external_data_for_model(proto, str(path.parent))
        except Exception as exc:
            raise ModelLoadError(f"{source}: could not load the external weight data next to the "
                                 f"model ({first_line(exc)}); keep the data file(s) in the "
                                 f"model's directory under the names the model records") from None
    _validate(proto, source)
    check_structure(proto, source)
    _check(proto, source)
    return proto, source


def _validate(proto: onnx.ModelProto, source: str) -> None:
    """Reject protos that parsed but are not models (protobuf accepts most garbage)."""
    graph = proto.graph
    if proto.ir_version <= 0 or not proto.HasField("graph") or not proto.opset_import:
        raise ModelLoadError(f"{source}: not a valid ONNX model (no graph, IR version or opset "
                             f"found); the file is truncated, corrupt or not ONNX")
    if not graph.output:
        raise ModelLoadError(f"{source}: the ONNX graph declares no outputs; nothing to import")
    for kind, infos in (("input", graph.input), ("output", graph.output), ("value_info", graph.value_info)):
        for vi in infos:
            elem = vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else 0
            if elem and elem not in _KNOWN_DATA_TYPES:
                raise ModelLoadError(f"{source}: graph {kind} '{vi.name}' declares element type {elem}, "
                                     f"which is not an ONNX data type; the file is corrupt, re-export "
                                     f"the model")
            if kind == "input" and vi.type.HasField("tensor_type") and not elem:
                raise ModelLoadError(f"{source}: graph input '{vi.name}' declares no element type; "
                                     f"re-export the model with typed inputs")
    for init in graph.initializer:
        _check_initializer(init, source)


#: ONNX TensorProto.DataType values onnx can convert to numpy (0 = UNDEFINED excluded)
_KNOWN_DATA_TYPES = frozenset(t for t in onnx.TensorProto.DataType.values() if t)
#: data types stored packed several to a byte (INT4/UINT4/FLOAT4E2M1, 2-bit types) or
#: as variable-length strings: their raw_data size is not element count * item size
_PACKED_OR_STRING = frozenset(getattr(onnx.TensorProto, n) for n in (
    "STRING", "INT4", "UINT4", "FLOAT4E2M1", "INT2", "UINT2") if hasattr(onnx.TensorProto, n))


def _check_initializer(init: onnx.TensorProto, source: str) -> None:
    """An initializer's data type, dims and stored data agree, before any native code
    (onnx's shape inference, onnxruntime) or numpy reads it."""
    what = f"{source}: initializer '{init.name}'"
    if init.data_type not in _KNOWN_DATA_TYPES:
        raise ModelLoadError(f"{what} has data type {init.data_type}, which is not an ONNX data "
                             f"type; the file is corrupt, re-export the model")
    if any(d < 0 for d in init.dims):
        raise ModelLoadError(f"{what} declares negative dims {list(init.dims)}; the file is "
                             f"corrupt, re-export the model")
    if init.data_location == onnx.TensorProto.EXTERNAL or init.data_type in _PACKED_OR_STRING:
        return
    count = int(np.prod([int(d) for d in init.dims], dtype=object)) if len(init.dims) else 1
    if init.HasField("raw_data"):
        itemsize = helper.tensor_dtype_to_np_dtype(init.data_type).itemsize
        if len(init.raw_data) != count * itemsize:
            raise ModelLoadError(f"{what} declares shape {list(init.dims)} ({count} values, "
                                 f"{count * itemsize} bytes) but stores {len(init.raw_data)} bytes; "
                                 f"the file is truncated or corrupt, re-export the model")


def _check(proto: onnx.ModelProto, source: str) -> None:
    """onnx's structural checker (after external data is in memory). Some exporters
    write nodes out of order, which the checker rejects; they are sorted first."""
    _toposort_proto(proto.graph)
    # The checker wants a shape on every graph input/output; a missing one is reported
    # later with what to do (specialize_inputs: give --input), so it gets an empty one
    # for the check only.
    shapeless = [vi for vi in (*proto.graph.input, *proto.graph.output)
                 if vi.type.HasField("tensor_type") and not vi.type.tensor_type.HasField("shape")]
    for vi in shapeless:
        vi.type.tensor_type.shape.SetInParent()
    try:
        onnx.checker.check_model(proto, full_check=False)
    except onnx.checker.ValidationError as exc:
        raise ModelLoadError(f"{source}: invalid ONNX model: {first_line(exc)}") from None
    except UnicodeDecodeError:
        # the checker found a fault and its message quotes a name that is not UTF-8
        raise ModelLoadError(f"{source}: invalid ONNX model: a name or string field is not valid "
                             f"UTF-8; the file is corrupt, re-export the model") from None
    finally:
        for vi in shapeless:
            vi.type.tensor_type.ClearField("shape")


def _used_names(node: onnx.NodeProto) -> set[str]:
    """Explicit inputs plus the outer-scope names read inside subgraphs."""
    names = {i for i in node.input if i}
    for attr in node.attribute:
        for sub in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)):
            for n in sub.node:
                names |= _used_names(n)
    return names


def _toposort_proto(graph: onnx.GraphProto) -> None:
    """Stable topological order of ``graph.node`` (unchanged if already ordered)."""
    produced = {o for n in graph.node for o in n.output if o}
    available = {vi.name for vi in graph.input} | {i.name for i in graph.initializer}
    needs = [(_used_names(n) & produced) for n in graph.node]
    seen = set(available)
    for need, n in zip(needs, graph.node):
        if not need <= seen:
            break
        seen.update(n.output)
    else:
        return  # already in order
    pending, ordered = list(zip(needs, graph.node)), []
    while pending:
        rest = []
        for need, n in pending:
            if need <= available:
                ordered.append(n)
                available.update(n.output)
            else:
                rest.append((need, n))
        if len(rest) == len(pending):
            return  # a cycle or a dangling input: the checker reports it
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def _default_opset(proto: onnx.ModelProto) -> int:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)


def _prepare(proto: onnx.ModelProto, source: str) -> onnx.ModelProto:
    """Inline local functions, drop initializers from the inputs, check/upgrade the opset."""
    if proto.functions:
        from onnx import inliner

        proto = inliner.inline_local_functions(proto)
    opset = _default_opset(proto)
    if opset > MAX_OPSET:
        raise ModelLoadError(f"{source}: opset {opset} is newer than edgeq supports "
                             f"({MIN_OPSET}–{MAX_OPSET}); re-export the model with opset ≤ {MAX_OPSET}")
    if opset < MIN_OPSET:
        from onnx import version_converter

        try:
            proto = version_converter.convert_version(proto, MIN_OPSET)
        except Exception as exc:
            raise ModelLoadError(f"{source}: opset {opset} is older than edgeq supports "
                                 f"({MIN_OPSET}–{MAX_OPSET}) and could not be upgraded "
                                 f"({first_line(exc)}); re-export with opset ≥ {MIN_OPSET}") from None
        logger.info("%s: upgraded opset %d -> %d", source, opset, MIN_OPSET)
    # IR < 4 lists initializers among the inputs; they are weights, not inputs
    initializers = {init.name for init in proto.graph.initializer}
    real_inputs = [vi for vi in proto.graph.input if vi.name not in initializers]
    if len(real_inputs) != len(proto.graph.input):
        del proto.graph.input[:]
        proto.graph.input.extend(real_inputs)
    return proto


def _reject_control_flow(proto: onnx.ModelProto, source: str) -> None:
    """Control flow left after folding cannot become a static dataflow graph."""
    left = [n for n in proto.graph.node if n.op_type in ("If", "Loop", "Scan")]
    if not left:
        return
    names = ", ".join(f"'{n.name or n.output[0]}' ({n.op_type})" for n in left[:5])
    inputs = _input_ancestors(proto.graph, [n.input[0] for n in left if n.input and n.input[0]])
    why = (f" Its condition/trip count depends on the value of input(s) "
           f"{', '.join(map(repr, inputs))}, which edgeq cannot fix at import." if inputs else "")
    raise UnsupportedOpError(
        f"{source}: control flow that does not fold away: {names}.{why} edgeq needs a static "
        f"dataflow graph; If is specialised only when its condition is constant for the given "
        f"input shapes. Export the model without control flow (e.g. trace it for one "
        f"configuration)", op_type=left[0].op_type, nodes=[n.name for n in left])


def _reject_custom_domains(proto: onnx.ModelProto, source: str) -> None:
    """Nodes of a custom (non-ONNX) domain that nothing here can run or shape-infer."""
    custom = [n for n in proto.graph.node if n.domain not in ("", "ai.onnx")]
    if not custom:
        return
    names = "; ".join(f"node '{n.name or n.output[0]}' is op '{n.op_type}' of the custom domain "
                      f"'{n.domain}'" for n in custom[:5])
    raise UnsupportedOpError(
        f"{source}: {names}. edgeq runs the ops of the standard ONNX domain only; export the "
        f"model without custom ops (or with their standard-ONNX decomposition)",
        op_type=custom[0].op_type, nodes=[n.name for n in custom])


def _input_ancestors(graph: onnx.GraphProto, names: list[str]) -> list[str]:
    """The graph inputs that the values ``names`` are computed from."""
    producer = {o: n for n in graph.node for o in n.output}
    inputs = {vi.name for vi in graph.input}
    found, seen, stack = [], set(), list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in inputs:
            found.append(name)
        elif name in producer:
            stack.extend(i for i in producer[name].input if i)
    return sorted(found)


# -- conversion -------------------------------------------------------------------------
def _attr_value(attr: onnx.AttributeProto):
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8", errors="replace") for v in value]
    if isinstance(value, list) and value and isinstance(value[0], onnx.TensorProto):
        return [numpy_helper.to_array(v) for v in value]
    return value


class _Builder:
    """Accumulates IR nodes/tensors while converting, with unique naming."""

    def __init__(self, graph: Graph, types: dict[str, tuple[np.dtype, tuple[int, ...]]]):
        self.graph = graph
        self.types = types
        self.names: set[str] = set()

    def node_name(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def constant(self, base: str, value: np.ndarray) -> str:
        return self.graph.add_constant(base, np.asarray(value))

    def tensor(self, name: str, dtype, shape) -> str:
        name = self.graph.unique_name(name) if name in self.graph.tensors else name
        self.graph.tensors[name] = Tensor(name, dtype, shape)
        return name


def _to_ir(proto: onnx.ModelProto, source: str) -> Graph:
    g = proto.graph
    opset = _default_opset(proto)
    graph = Graph(name=g.name or Path(source).stem, opset=IR_OPSET)
    graph.metadata.update({"source": source, "source_opset": str(opset),
                           "producer": f"{proto.producer_name} {proto.producer_version}".strip()})
    graph.metadata.update({p.key: p.value for p in proto.metadata_props})
    types: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        shape = static_shape(vi.type)
        if shape is not None and tt.elem_type:
            types[vi.name] = (helper.tensor_dtype_to_np_dtype(tt.elem_type), shape)
    for init in g.initializer:
        try:
            data = numpy_helper.to_array(init)
        except (ValueError, KeyError, TypeError) as exc:  # typed-field data of the wrong size
            raise ModelLoadError(f"{source}: initializer '{init.name}' cannot be read "
                                 f"({first_line(exc)}); the file is corrupt, re-export the model") from None
        graph.tensors[init.name] = Tensor(init.name, data.dtype, data.shape, data)
    graph.inputs = [vi.name for vi in g.input]
    graph.outputs = [vi.name for vi in g.output]
    for name in graph.inputs:
        graph.tensors[name] = Tensor(name, *types[name])
    builder = _Builder(graph, types)
    for i, n in enumerate(g.node):
        for out in n.output:
            if out and out not in graph.tensors:
                if out not in types:
                    raise ShapeError(f"{source}: tensor '{out}' (output of node '{n.name}', "
                                     f"{n.op_type}) has no static shape after shape inference")
                graph.tensors[out] = Tensor(out, *types[out])
        node = Node(builder.node_name(n.name or f"{n.op_type}_{i}"), n.op_type, list(n.input),
                    list(n.output), {a.name: _attr_value(a) for a in n.attribute}, n.domain)
        if node.domain == "ai.onnx":
            node.domain = ""
        _check_sizes(node, graph, source)
        graph.nodes.extend(_normalize(node, builder, opset) if node.domain == "" else [node])
    missing = [o for o in graph.outputs if o not in graph.tensors]
    if missing:
        raise ModelLoadError(f"{source}: graph output(s) {missing} are produced by no node")
    _check_finite(graph, source)
    graph.remove_unused()
    graph.toposort()
    return graph


#: ops whose inputs past the first are parameters (weights, biases, statistics): an
#: infinite value there is a broken model, where elsewhere (a mask's -inf, a Clip bound)
#: it can be meant
_PARAMETER_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization",
                            "LayerNormalization", "InstanceNormalization", "GroupNormalization",
                            "LSTM", "GRU", "RNN", "PRelu"})


def _check_finite(graph: Graph, source: str) -> None:
    """ModelLoadError for a float initializer holding NaN (anywhere) or ±inf (as a layer's
    parameter), naming it and the nodes that read it: calibration would otherwise fail
    later with a message about an output tensor instead."""
    readers: dict[str, list[Node]] = {}
    for node in graph.nodes:
        for k, name in enumerate(node.inputs):
            if name:
                readers.setdefault(name, []).append((node, k))
    bad = []
    for t in graph.constants():
        if t.dtype.kind != "f" or t.data is None or t.data.size == 0:
            continue
        with np.errstate(invalid="ignore"):
            nans = int(np.count_nonzero(np.isnan(t.data)))
            infs = int(np.count_nonzero(np.isinf(t.data)))
        users = readers.get(t.name, [])
        as_parameter = any(n.op_type in _PARAMETER_OPS and k > 0 for n, k in users)
        if nans or (infs and as_parameter):
            where = ", ".join(f"'{n.name}' ({n.op_type})" for n, _ in users[:3]) or "no node"
            what = " and ".join(x for x in (f"{nans} NaN" if nans else "", f"{infs} infinite" if infs else "") if x)
            bad.append(f"initializer '{t.name}' (read by {where}) holds {what} of {t.data.size} values")
    if bad:
        raise ModelLoadError(f"{source}: {'; '.join(bad[:5])}{' …' if len(bad) > 5 else ''}. The weights "
                             "are broken (a diverged training run or a faulty export): re-export "
                             "the model from a checkpoint with finite weights")


def _check_sizes(node: Node, graph: Graph, source: str) -> None:
    """Shape inference accepts a Reshape that changes the element count (it does not
    check), which a wrong ``--input`` shape easily causes; catch it here."""
    if node.op_type in ("Reshape", "Flatten") and node.domain == "":
        before, after = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        if before.size != after.size:
            raise ShapeError(
                f"{source}: node '{node.name}' ({node.op_type}) cannot turn shape "
                f"{list(before.shape)} into {list(after.shape)} (different element counts); "
                f"the model does not accept the given input shapes, check the --input shapes")


def _normalize(node: Node, b: _Builder, opset: int) -> list[Node]:
    """Rewrite ``node`` into the IR's newest-opset input form (see the module contract)."""
    g = b.graph
    for attr in _DROP_ATTRS.get(node.op_type, ()):
        node.attrs.pop(attr, None)
    for attr, index, dtype in _ATTR_TO_INPUT.get(node.op_type, ()):
        if attr not in node.attrs:
            continue
        value = node.attrs.pop(attr)
        dtype = g.tensors[node.inputs[0]].dtype if dtype == "x" else dtype
        value = np.asarray(value, dtype=dtype)
        if node.op_type == "TopK":
            value = value.reshape(1)
        while len(node.inputs) <= index:
            node.inputs.append("")
        node.inputs[index] = b.constant(f"{node.name}_{attr}", value)
    op = node.op_type
    if op == "Split":
        _explicit_split(node, b)
    elif op == "Squeeze" and (len(node.inputs) < 2 or not node.inputs[1]):
        shape = g.tensors[node.inputs[0]].shape
        axes = np.array([i for i, d in enumerate(shape) if d == 1], dtype=np.int64)
        node.inputs = [node.inputs[0], b.constant(f"{node.name}_axes", axes)]
    elif op == "Resize":
        # opset 11/12 need roi/scales placeholders (empty tensors) when sizes are used;
        # roi only matters for tf_crop_and_resize (ONNX Resize-11..19)
        for i in (1, 2):
            if i < len(node.inputs) and g.is_constant(node.inputs[i]) and g.tensors[node.inputs[i]].size == 0:
                node.inputs[i] = ""
        if len(node.inputs) > 1 and node.attrs.get("coordinate_transformation_mode") != "tf_crop_and_resize":
            node.inputs[1] = ""
        while node.inputs and node.inputs[-1] == "":
            node.inputs.pop()
    elif op in ("Softmax", "LogSoftmax", "Hardmax") and opset < 13:
        return _coerced_2d(node, b)
    return [node]


def _explicit_split(node: Node, b: _Builder) -> None:
    """Give Split its split-sizes input (equal split and opset-18 num_outputs forms)."""
    node.attrs.pop("num_outputs", None)
    if len(node.inputs) > 1 and node.inputs[1]:
        return
    sizes = [b.graph.tensors[o].shape[node.attrs.get("axis", 0)] for o in node.outputs]
    node.inputs = [node.inputs[0], b.constant(f"{node.name}_split", np.array(sizes, dtype=np.int64))]


def _coerced_2d(node: Node, b: _Builder) -> list[Node]:
    """Softmax-1/11 semantics (flatten to 2-D at ``axis``) in the opset-13 form."""
    g = b.graph
    x = node.inputs[0]
    shape = g.tensors[x].shape
    axis = node.attrs.get("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    node.attrs["axis"] = -1
    if axis == len(shape) - 1:
        return [node]  # the last axis alone: both versions agree
    rows = int(np.prod(shape[:axis], dtype=np.int64))
    flat_shape = (rows, int(np.prod(shape[axis:], dtype=np.int64)))
    dtype = g.tensors[x].dtype
    flat = b.tensor(f"{node.name}_flat", dtype, flat_shape)
    flat_out = b.tensor(f"{node.name}_flat_out", dtype, flat_shape)
    y = node.outputs[0]
    pre = Node(b.node_name(f"{node.name}_flatten"), "Reshape",
               [x, b.constant(f"{node.name}_flat_shape", np.array(flat_shape, dtype=np.int64))], [flat])
    node.inputs, node.outputs = [flat], [flat_out]
    post = Node(b.node_name(f"{node.name}_unflatten"), "Reshape",
                [flat_out, b.constant(f"{node.name}_shape", np.array(shape, dtype=np.int64))], [y])
    return [pre, node, post]
