"""Constant folding, on an ONNX ``ModelProto`` (during import) and on the IR (as a pass).

Contract:

* A node is folded when it is a default-domain ONNX op, every non-omitted input is a
  constant, it is deterministic (no Random*/Multinomial/Bernoulli) and it carries no
  subgraph; its outputs become constants and the node disappears. ``Shape`` and
  ``Size`` fold as soon as their input has a fully static shape, whatever its value,
  which is what collapses shape subgraphs (Shape → Gather → Unsqueeze → Concat →
  Reshape …) once the input shapes are fixed.
* ``If`` whose condition folds to a constant is specialised: the taken branch's nodes
  are inlined (its local names prefixed with the If node's name) and folding goes on
  inside them.
* Nodes are evaluated with onnx's reference implementation
  (:class:`onnx.reference.ReferenceEvaluator`), an implementation independent of both
  onnxruntime and the edgeq interpreter, at the model's opset version.
* A result larger than :data:`MAX_FOLD_ELEMENTS` elements is not folded (the node
  stays, computing it at run time), so a ConstantOfShape/Expand/Tile cannot blow up
  the model file.
* Graph outputs keep their names; folding never changes what the graph computes.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Callable

import numpy as np
import onnx
from onnx import helper, numpy_helper

logger = logging.getLogger(__name__)

#: do not materialise folded constants bigger than this (elements)
MAX_FOLD_ELEMENTS = 1 << 24

#: ops that must run at run time even with constant inputs
NONDETERMINISTIC = frozenset({"RandomNormal", "RandomNormalLike", "RandomUniform",
                              "RandomUniformLike", "Multinomial", "Bernoulli"})
#: ops whose semantics the folding cannot express (subgraphs, sequences, optionals)
NOT_FOLDABLE = NONDETERMINISTIC | frozenset({
    "If", "Loop", "Scan", "SequenceConstruct", "SequenceEmpty", "SequenceInsert",
    "SequenceErase", "SequenceAt", "SequenceLength", "SplitToSequence", "ConcatFromSequence",
    "Optional", "OptionalGetElement", "OptionalHasElement"})


def evaluate_node(node: onnx.NodeProto, inputs: list[np.ndarray | None], opset: int) -> list[np.ndarray]:
    """Run one ONNX node with the onnx reference evaluator at ``opset``."""
    from onnx.reference import ReferenceEvaluator

    feeds = {name: value for name, value in zip(node.input, inputs) if name}
    evaluator = ReferenceEvaluator(node, opsets={"": opset})
    return [np.asarray(v) for v in evaluator.run(None, feeds)]


def _shape_value(shape: tuple[int, ...], node_attrs: dict) -> np.ndarray:
    """ONNX Shape-15 with optional start/end (clamped like Python slicing)."""
    start = node_attrs.get("start", 0)
    end = node_attrs.get("end", None)
    return np.array(shape[start:end], dtype=np.int64)


def _fits(values: list[np.ndarray]) -> bool:
    return all(v.size <= MAX_FOLD_ELEMENTS for v in values)


# -- ModelProto ---------------------------------------------------------------------
def static_shape(type_proto: onnx.TypeProto) -> tuple[int, ...] | None:
    """The static shape in a TypeProto, or None if it is not a tensor of known dims."""
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    dims = []
    for d in type_proto.tensor_type.shape.dim:
        if not d.HasField("dim_value") or d.dim_value < 0:
            return None
        dims.append(d.dim_value)
    return tuple(dims)


def value_shapes(graph: onnx.GraphProto) -> dict[str, tuple[int, ...]]:
    """Static shapes known for the values of ``graph`` (inputs, value_info, outputs)."""
    shapes = {}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        shape = static_shape(vi.type)
        if shape is not None:
            shapes[vi.name] = shape
    for init in graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def fold_model(model: onnx.ModelProto) -> bool:
    """Fold constants in ``model.graph`` in place (see the module contract).

    Constant nodes become initializers. Returns whether anything changed. Shape
    information comes from ``value_info`` (run shape inference first).
    """
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 21)
    shapes = value_shapes(graph)
    # the element types inference settled on: a reference result is cast to them, so a
    # folded constant has exactly the dtype the model declares for the value
    elem_types = {vi.name: vi.type.tensor_type.elem_type for vi in list(graph.value_info) + list(graph.output)
                  if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type}
    protos = {init.name: init for init in graph.initializer}
    arrays: dict[str, np.ndarray] = {}

    def const(name: str) -> np.ndarray | None:
        if name not in arrays and name in protos:
            arrays[name] = numpy_helper.to_array(protos[name])
        return arrays.get(name)

    def add_constant(name: str, value: np.ndarray) -> None:
        value = np.asarray(value)
        arrays[name] = value
        protos[name] = numpy_helper.from_array(value, name)
        graph.initializer.append(protos[name])

    kept: list[onnx.NodeProto] = []
    changed = False
    work = deque(graph.node)
    while work:
        node = work.popleft()
        if node.domain in ("", "ai.onnx") and node.op_type == "If":
            cond = const(node.input[0])
            if cond is not None:
                branch = "then_branch" if bool(np.asarray(cond).reshape(-1)[0]) else "else_branch"
                inlined = inline_branch(node, branch, graph, add_constant)
                work.extendleft(reversed(inlined))
                changed = True
                continue
            kept.append(node)
            continue
        results = _fold_one(node, const, shapes, opset)
        if results is None:
            kept.append(node)
            continue
        for name, value in zip(node.output, results):
            if name:
                if name in elem_types:
                    value = np.asarray(value).astype(helper.tensor_dtype_to_np_dtype(elem_types[name]), copy=False)
                add_constant(name, value)
        changed = True
    if changed:
        del graph.node[:]
        graph.node.extend(kept)
        # drop stale value_info of folded values (they are initializers now)
        stale = [vi for vi in graph.value_info if vi.name in protos]
        for vi in stale:
            graph.value_info.remove(vi)
    return changed


def _fold_one(node: onnx.NodeProto, const: Callable[[str], np.ndarray | None],
              shapes: dict[str, tuple[int, ...]], opset: int) -> list[np.ndarray] | None:
    if node.domain not in ("", "ai.onnx") or node.op_type in NOT_FOLDABLE:
        return None
    if node.op_type in ("Shape", "Size") and node.input[0] in shapes:
        shape = shapes[node.input[0]]
        if node.op_type == "Size":
            return [np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return [_shape_value(shape, attrs)]
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
        return None
    inputs = []
    for name in node.input:
        if not name:
            inputs.append(None)
            continue
        value = const(name)
        if value is None:
            return None
        inputs.append(value)
    try:
        results = evaluate_node(node, inputs, opset)
    except Exception as exc:  # the node will run at run time instead; say why
        logger.debug("not folding %s (%s): %s", node.name, node.op_type, exc)
        return None
    return results if _fits(results) else None


def inline_branch(node: onnx.NodeProto, branch: str, graph: onnx.GraphProto,
                  add_constant: Callable[[str, np.ndarray], None]) -> list[onnx.NodeProto]:
    """The nodes of ``node``'s ``branch`` subgraph, renamed to live in ``graph``."""
    sub = next(helper.get_attribute_value(a) for a in node.attribute if a.name == branch)
    prefix = (node.name or node.output[0]) + "/"
    local = {init.name for init in sub.initializer}
    local |= {o for n in sub.node for o in n.output if o}
    rename = {name: prefix + name for name in local}
    for init in sub.initializer:
        add_constant(rename[init.name], numpy_helper.to_array(init))
    nodes = []
    for n in sub.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(n)
        _rename_node(copy, rename)
        if copy.name:
            copy.name = prefix + copy.name
        nodes.append(copy)
    # branch outputs become the If outputs
    out_rename = {}
    for sub_out, if_out in zip(sub.output, node.output):
        inner = rename.get(sub_out.name, sub_out.name)
        producer = next((n for n in nodes if inner in n.output), None)
        if producer is not None and inner not in out_rename:
            out_rename[inner] = if_out
        else:  # an outer value, a branch constant or a value used twice: copy it
            nodes.append(helper.make_node("Identity", [inner], [if_out], name=prefix + if_out))
    for n in nodes:
        _rename_node(n, out_rename)
    return nodes


def _rename_node(node: onnx.NodeProto, rename: dict[str, str]) -> None:
    """Rename inputs/outputs of ``node`` and the outer-scope references of its subgraphs."""
    for i, name in enumerate(node.input):
        node.input[i] = rename.get(name, name)
    for i, name in enumerate(node.output):
        node.output[i] = rename.get(name, name)
    for attr in node.attribute:
        subs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
        for sub in subs:
            for n in sub.node:
                _rename_node(n, rename)


# -- IR pass --------------------------------------------------------------------------
def _node_proto(node) -> onnx.NodeProto:
    attrs = {k: (numpy_helper.from_array(np.asarray(v)) if isinstance(v, np.ndarray) else v)
             for k, v in node.attrs.items()}
    return helper.make_node(node.op_type, node.inputs, node.outputs, name=node.name, **attrs)


def run(graph) -> bool:
    """Fold constant subgraphs of an IR :class:`~edgeq.ir.graph.Graph` in place.

    Only default-domain ONNX ops without fused activation attrs are folded (edgeq's
    canonical ops have no reference implementation). Returns whether anything changed.
    """
    from edgeq.ir.ops import CANONICAL_OPS

    shapes = {name: t.shape for name, t in graph.tensors.items()}
    kept = []
    changed = False
    for node in graph.nodes:
        candidate = node.op_type in ("Shape", "Size") or all(not i or graph.is_constant(i) for i in node.inputs)
        if (not candidate or node.op_type in CANONICAL_OPS or node.domain != ""
                or "act_min" in node.attrs or "act_max" in node.attrs):
            kept.append(node)
            continue
        try:
            proto = _node_proto(node)
        except (TypeError, ValueError):  # an attribute ONNX cannot hold: not an ONNX node
            kept.append(node)
            continue
        results = _fold_one(proto, graph.const, shapes, graph.opset)
        if results is None:
            kept.append(node)
            continue
        for name, value in zip(node.outputs, results):
            if name:
                value = value.astype(graph.tensors[name].dtype, copy=False)
                graph.tensors[name].data = value
                graph.tensors[name].shape = tuple(value.shape)
        changed = True
    graph.nodes = kept
    return changed
