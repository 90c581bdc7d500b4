"""Build the QuantizedGraph (docs/quantization.md) from a lowered float graph and
per-tensor ranges.

Steps:

1. *Precision* of every node: ``int8`` (default), ``int16`` (16x8, requested and
   supported by the spec and the op), ``float`` (only where the QuantSpec allows a
   fallback; always reported) or ``index`` (nodes without float data, e.g. shape
   arithmetic, copied unchanged).
2. *Structure*: every activation tensor is stored in its producer's precision; where a
   consumer computes in another precision a converter is inserted (``Quantize`` for
   float→int and int→int requantization, ``Dequantize`` for int→float), so every edge
   has one storage type. Graph inputs get a leading ``Quantize`` and graph outputs a
   trailing ``Dequantize``; the integer tensor keeps a ``_quant`` suffix so the graph
   outputs keep their names.
3. *Params*: same-scale ops (``spec.same_scale_ops``) tie their data inputs and outputs
   into one group (union-find); a group takes a fixed-scale member's params
   (``spec.fixed_output``), else the union of its members' observed ranges. Every other
   tensor gets params from its own range. Constants used as data are quantized with
   their group's params or their own min/max.
4. *Weights and bias*: symmetric int8 per output channel (per tensor if the spec does
   not allow per-channel for the op) with MSE-optimal clipping; bias int32 (int64 for
   16x8) at ``s_in · s_w[c]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from edgeq.errors import QuantizationError
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.arith import scheme
from edgeq.quantize.rules import rule_for, weight_axis
from edgeq.quantize.spec import allows_fallback
from edgeq.types import QDType, QuantParams, QuantSpec

log = logging.getLogger(__name__)

RangeFn = Callable[[str, QDType], "tuple[float, float]"]
FLOAT = "float"
INDEX = "index"


@dataclass
class BuildResult:
    graph: Graph
    #: float tensor name -> name of the quantized tensor holding the same value
    tensor_map: dict[str, str]
    #: node name -> "int8" | "int16" | "float" | "index"
    precision: dict[str, str]
    #: (node, op_type, reason) of every node left in float
    fallback: list[tuple[str, str, str]] = field(default_factory=list)
    #: the float graph (same tensor names) this graph quantizes, when the caller tracks it
    lowered: Graph | None = None


def _is_float_activation(graph: Graph, name: str) -> bool:
    return bool(name) and not graph.is_constant(name) and graph.tensors[name].dtype.kind == "f"


def _config_problem(node: Node, graph: Graph) -> str | None:
    """Why an op with an integer kernel still cannot run integer in this configuration."""
    if node.domain:
        return f"op '{node.op_type}' of the custom domain '{node.domain}' has no integer kernel"
    rule = rule_for(node.op_type)
    if rule is None:
        return f"no integer kernel for op type '{node.op_type}'"
    if rule.weight is not None:
        if len(node.inputs) <= rule.weight or not graph.is_constant(node.inputs[rule.weight]):
            return "weights are not a constant"
    if node.op_type == "Conv":
        w = graph.const(node.inputs[1])
        group = int(node.attr("group", 1))
        cin = graph.tensors[node.inputs[0]].shape[1]
        if w.ndim != 4:
            return f"{w.ndim - 2}-D convolution (only 2-D has an integer kernel)"
        if group not in (1, cin):
            return f"grouped convolution (group={group}, {cin} input channels)"
    if node.op_type == "Resize":
        problem = _resize_problem(node)
        if problem:
            return problem
    if node.op_type == "ConvTranspose":  # the integer kernel (TRANSPOSE_CONV) is 2-D, ungrouped
        w = graph.const(node.inputs[1])
        if w.ndim != 4:
            return f"{w.ndim - 2}-D transposed convolution (only 2-D has an integer kernel)"
        if int(node.attr("group", 1)) != 1:
            return f"grouped transposed convolution (group={node.attr('group')})"
        if any(int(d) != 1 for d in node.attr("dilations", [1, 1])):
            return "dilated transposed convolution (the integer kernel has no dilation)"
    return None


def _resize_problem(node: Node) -> str | None:
    """Nearest Resize, and linear Resize in the modes RESIZE_BILINEAR has
    (integer_ops/resize_bilinear.py), run in integer."""
    def text(key, default):
        v = node.attr(key, default)
        return v.decode() if isinstance(v, bytes) else v

    mode = text("mode", "nearest")
    if mode == "nearest":
        return None
    if mode != "linear":
        return f"{mode} Resize (nearest and linear have integer kernels)"
    from edgeq.interp.integer_ops.resize_bilinear import LINEAR_MODES

    ctm = text("coordinate_transformation_mode", "half_pixel")
    if ctm not in LINEAR_MODES:
        return (f"linear Resize with coordinate_transformation_mode '{ctm}' (integer kernels "
                f"for {', '.join(LINEAR_MODES)})")
    return None


def assign_precision(graph: Graph, spec: QuantSpec, int16_nodes=frozenset(), float_nodes=frozenset()):
    """Node precisions and the fallback list; raises QuantizationError for nodes that can
    neither run integer nor fall back under ``spec``. ``float_nodes`` is a set of node
    names or a dict of node name -> the reason reported for keeping it in float."""
    precision: dict[str, str] = {}
    fallback: list[tuple[str, str, str]] = []
    impossible: list[str] = []
    for node in graph.nodes:
        if not any(_is_float_activation(graph, o) for o in node.outputs):
            precision[node.name] = INDEX
            continue
        if node.op_type == "Cast" and not any(
                graph.tensors[i].dtype.kind == "f" for i in node.inputs if i):
            # int -> float conversion of a model input (e.g. an attention mask): part of
            # the input boundary, like the float input itself; consumers quantize its output
            precision[node.name] = INDEX
            continue
        problem = _config_problem(node, graph)
        if problem is None and node.op_type not in spec.integer_ops:
            problem = f"target '{spec.name}' has no integer '{node.op_type}'"
        if node.name in float_nodes and problem is None:
            problem = float_nodes.get(node.name) if isinstance(float_nodes, dict) else None
            problem = problem or "requested in float"
        if problem is not None:
            if allows_fallback(spec, node.op_type):
                precision[node.name] = FLOAT
                fallback.append((node.name, node.op_type, problem))
            else:
                impossible.append(f"'{node.name}' ({node.op_type}): {problem}")
            continue
        wants16 = node.name in int16_nodes and spec.supports_int16()
        if wants16 and node.op_type not in spec.int16_ops:
            log.info("node '%s' (%s) has no int16 kernel; kept int8", node.name, node.op_type)
            wants16 = False
        precision[node.name] = "int16" if wants16 else "int8"
    if impossible:
        raise QuantizationError(
            f"{len(impossible)} node(s) cannot run in integer arithmetic and the spec "
            f"'{spec.name}' allows no float fallback for them: {'; '.join(impossible[:8])}"
            f"{' …' if len(impossible) > 8 else ''}. Use a spec with float fallback "
            f"(a target profile with float_fallback: true) or change the model.")
    return precision, fallback


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return out


def _dtype_of(precision: str) -> np.dtype:
    return np.dtype(np.float32) if precision == FLOAT else np.dtype(precision)


class _Builder:
    def __init__(self, graph: Graph, spec: QuantSpec, precision: dict[str, str], range_fn: RangeFn,
                 weight_clip: str, range_overrides: dict | None, weight_cache: dict | None) -> None:
        self.f = graph
        self.spec = spec
        self.precision = precision
        self.range_fn = range_fn
        self.weight_clip = weight_clip
        self.overrides = dict(range_overrides or {})
        self.weight_cache = weight_cache if weight_cache is not None else {}
        self.q = Graph(graph.name, {}, [], list(graph.inputs), list(graph.outputs), graph.opset,
                       dict(graph.metadata))
        self.versions: dict[str, dict[np.dtype, str]] = {}
        self.source: dict[str, str] = {}  # quantized activation -> float tensor it holds
        self.const_data: dict[str, tuple[str, np.dtype]] = {}  # placeholder -> (float const, dtype)
        self.uf = _UnionFind()
        self.fixed: dict[str, QuantParams] = {}
        self.mm_nodes: list[tuple[Node, str]] = []  # Conv/FC nodes needing weight/bias

    # -- structure ----------------------------------------------------------------
    def _copy_tensor(self, name: str) -> None:
        if name and name not in self.q.tensors:
            t = self.f.tensors[name]
            self.q.tensors[name] = Tensor(t.name, t.dtype, t.shape, t.data, t.quant)

    def _version(self, name: str, dtype: np.dtype) -> str:
        """``name`` as stored in ``dtype``, inserting a converter node when needed."""
        have = self.versions[name]
        if dtype in have:
            return have[dtype]
        native_dtype, native = next(iter(have.items()))
        if native_dtype.kind == "f" and dtype.kind != "f":
            op = "Quantize"
        elif native_dtype.kind != "f" and dtype.kind == "f":
            op = "Dequantize"
        else:
            # an int8 <-> int16 requantization: convert from the widest version available
            op = "Quantize"
            for d, n in have.items():
                if d.kind == "i" and d.itemsize > native_dtype.itemsize:
                    native_dtype, native = d, n
        base = name + ("_quant" if native_dtype.kind == "f" else f"_{dtype.name}")
        new = self.q.unique_name(base)
        shape = self.f.tensors[name].shape
        self.q.tensors[new] = Tensor(new, dtype, shape)
        self.q.nodes.append(Node(self.q.unique_name(f"{op.lower()}_{name}"), op, [native], [new]))
        have[dtype] = new
        if dtype.kind != "f":
            self.source[new] = name
        return new

    def structure(self) -> None:
        for name in self.f.inputs:
            self._copy_tensor(name)
            self.versions[name] = {self.f.tensors[name].dtype: name}
        for node in self.f.nodes:
            prec = self.precision[node.name]
            if prec == INDEX:
                for n in node.inputs:
                    self._copy_tensor(n)
                for o in node.outputs:
                    self._copy_tensor(o)
                    if o:
                        self.versions[o] = {self.f.tensors[o].dtype: o}
                self.q.nodes.append(Node(node.name, node.op_type, list(node.inputs), list(node.outputs),
                                         dict(node.attrs), node.domain))
                continue
            dtype = _dtype_of(prec)
            rule = rule_for(node.op_type)
            data = rule.data_indices(len(node.inputs)) if rule else [
                i for i, n in enumerate(node.inputs) if _is_float_activation(self.f, n)
                or (self.f.is_constant(n) and self.f.tensors[n].dtype.kind == "f")]
            special = set() if rule is None or prec == FLOAT else {rule.weight, rule.bias, *rule.like_output}
            inputs = list(node.inputs)
            for i, name in enumerate(node.inputs):
                if not name:
                    continue
                if i in special:
                    continue  # weights, bias and output-like constants come in params()
                if i in data and self.f.tensors[name].dtype.kind == "f":
                    if self.f.is_constant(name):
                        if prec == FLOAT:
                            self._copy_tensor(name)
                        else:
                            ph = self.q.unique_name(f"{name}_quant")
                            self.q.tensors[ph] = Tensor(ph, dtype, self.f.tensors[name].shape)
                            self.const_data[ph] = (name, dtype)
                            inputs[i] = ph
                    else:
                        inputs[i] = self._version(name, dtype)
                else:
                    self._copy_tensor(name)
            for o in node.outputs:
                if not o:
                    continue
                t = self.f.tensors[o]
                out_dtype = dtype if t.dtype.kind == "f" else t.dtype
                self.q.tensors[o] = Tensor(o, out_dtype, t.shape)
                self.versions[o] = {out_dtype: o}
                if out_dtype.kind != "f":
                    self.source[o] = o
            qnode = Node(node.name, node.op_type, inputs, list(node.outputs), dict(node.attrs), node.domain)
            self.q.nodes.append(qnode)
            if prec != FLOAT:
                self._constraints(qnode, node, rule, QDType(dtype.name))

    def _constraints(self, qnode: Node, node: Node, rule, dtype: QDType) -> None:
        if rule.weight is not None:
            self.mm_nodes.append((qnode, node.inputs[rule.weight]))
        fixed = self.spec.fixed_output.get(node.op_type, {}).get(dtype)
        if fixed is not None:
            for o in qnode.outputs:
                if o:
                    self.fixed[o] = scheme.fixed_params(fixed[0], fixed[1], dtype)
        if node.op_type in self.spec.same_scale_ops:
            if node.op_type == "Concat":
                self._requantize_fixed_inputs(qnode, rule)
            members = [qnode.inputs[i] for i in rule.data_indices(len(qnode.inputs)) if qnode.inputs[i]]
            members += [o for o in qnode.outputs if o]
            for m in members[1:]:
                self.uf.union(members[0], m)
        for i in rule.like_output:
            if i < len(node.inputs) and node.inputs[i] and qnode.outputs[0]:
                ph = self.q.unique_name(f"{node.inputs[i]}_quant")
                self.q.tensors[ph] = Tensor(ph, dtype.numpy, self.f.tensors[node.inputs[i]].shape)
                self.const_data[ph] = (node.inputs[i], dtype.numpy)
                qnode.inputs[i] = ph
                self.uf.union(qnode.outputs[0], ph)

    def _requantize_fixed_inputs(self, qnode: Node, rule) -> None:
        """A Concat input with a fixed output scale (a Sigmoid's 1/256, a Softmax's) would
        force that scale on the whole same-scale group, clipping the other inputs (YOLO
        heads concatenate pixel-unit boxes with sigmoid scores). Such an input is copied
        by an integer-to-integer Quantize into a tensor that takes the group's scale.
        When every input has a fixed scale, they keep sharing it (nothing to requantize)."""
        data = [qnode.inputs[i] for i in rule.data_indices(len(qnode.inputs)) if qnode.inputs[i]]
        if all(name in self.fixed for name in data):
            return
        for i in rule.data_indices(len(qnode.inputs)):
            name = qnode.inputs[i]
            if not name or name not in self.fixed:
                continue
            t = self.q.tensors[name]
            new = self.q.unique_name(f"{name}_requant")
            self.q.tensors[new] = Tensor(new, t.dtype, t.shape)
            self.source[new] = self.source.get(name, name)
            self.q.nodes.insert(len(self.q.nodes) - 1,
                                Node(self.q.unique_name(f"requantize_{name}"), "Quantize", [name], [new]))
            qnode.inputs[i] = new

    # -- params -------------------------------------------------------------------
    def _member_range(self, name: str, dtype: QDType) -> tuple[float, float]:
        if name in self.const_data:
            data = self.f.const(self.const_data[name][0])
            return float(np.min(data)), float(np.max(data))
        src = self.source[name]
        if src in self.overrides:
            return self.overrides[src]
        return self.range_fn(src, dtype)

    def params(self) -> None:
        quantized = [n for n, t in self.q.tensors.items()
                     if t.dtype.kind == "i" and (n in self.source or n in self.const_data)]
        for n in quantized:
            self.uf.find(n)
        for members in self.uf.groups().values():
            dtypes = {QDType(self.q.tensors[m].dtype.name) for m in members}
            assert len(dtypes) == 1, f"same-scale group with mixed dtypes: {members}"
            dtype = dtypes.pop()
            fixed = {m: self.fixed[m] for m in members if m in self.fixed}
            if fixed:
                distinct = {(float(p.scale[0]), int(p.zero_point[0])) for p in fixed.values()}
                if len(distinct) > 1:
                    raise QuantizationError(
                        f"tensors {sorted(fixed)} must share one scale (same-scale ops) but have "
                        f"different fixed output scales {sorted(distinct)}; insert a requantizing "
                        f"op between them in the model")
                params = next(iter(fixed.values()))
            else:
                ranges = [self._member_range(m, dtype) for m in members]
                lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
                params = scheme.activation_params(lo, hi, dtype)
            for m in members:
                self.q.tensors[m].quant = params
        for ph, (src, dtype) in self.const_data.items():
            t = self.q.tensors[ph]
            t.data = t.quant.quantize(self.f.const(src))
            t.dtype = t.data.dtype
        for qnode, wname in self.mm_nodes:
            self._weights(qnode, wname)
        # converters and integer outputs without stats (e.g. int16 versions) are covered above

    def _weights(self, qnode: Node, wname: str) -> None:
        rule = rule_for(qnode.op_type)
        axis = weight_axis(qnode) if qnode.op_type in self.spec.per_channel_ops else None
        key = (wname, axis, self.weight_clip)
        if key not in self.weight_cache:
            w = self.f.const(wname)
            wp = scheme.weight_params(w, axis, self.weight_clip)
            self.weight_cache[key] = (scheme.quantize_weight(w, wp), wp)
        wq, wp = self.weight_cache[key]
        bname = qnode.inputs[rule.bias] if len(qnode.inputs) > rule.bias else ""
        s_in = float(self.q.tensors[qnode.inputs[0]].quant.scale[0])
        int64 = self.q.tensors[qnode.outputs[0]].dtype == np.int16
        safe = scheme.widen_for_bias(wp, self.f.const(bname), s_in, int64) if bname else None
        if safe is not None:  # near-zero weight channels (scheme.widen_for_bias)
            wp = safe
            wq = scheme.quantize_weight(self.f.const(wname), wp)
            wname = self.q.unique_name(f"{wname}_{qnode.name}")
        wt = self.q.tensors.get(wname)
        if wt is None:
            self.q.tensors[wname] = Tensor(wname, np.int8, wq.shape, wq, wp)
        qnode.inputs[rule.weight] = wname
        if not bname:
            return
        bq, bscale = scheme.quantize_bias(self.f.const(bname), s_in, wp, int64, name=bname)
        bdtype = QDType.INT64 if int64 else QDType.INT32
        bp = QuantParams(bscale, np.zeros(bscale.size, np.int64), bdtype, 0 if bscale.size > 1 else None)
        existing = self.q.tensors.get(bname)
        if existing is not None and (existing.data is None or not np.array_equal(existing.data, bq)
                                     or not np.array_equal(existing.quant.scale, bscale)):
            bname = self.q.unique_name(f"{bname}_{qnode.name}")
        self.q.tensors[bname] = Tensor(bname, bq.dtype, bq.shape, bq, bp)
        qnode.inputs[rule.bias] = bname

    # -- boundary -----------------------------------------------------------------
    def outputs(self) -> None:
        for i, name in enumerate(self.f.outputs):
            t = self.q.tensors[name]
            if t.dtype.kind == "f" or t.quant is None:
                continue
            new = self.q.unique_name(f"{name}_quant")
            for n in self.q.nodes:
                n.inputs = [new if x == name else x for x in n.inputs]
                n.outputs = [new if x == name else x for x in n.outputs]
            self.q.tensors[new] = Tensor(new, t.dtype, t.shape, None, t.quant)
            self.q.tensors[name] = Tensor(name, np.float32, t.shape)
            self.source[new] = self.source.pop(name, name)
            for d, v in self.versions[name].items():
                if v == name:
                    self.versions[name][d] = new
            self.q.nodes.append(Node(self.q.unique_name(f"dequantize_{name}"), "Dequantize", [new], [name]))

    def tensor_map(self) -> dict[str, str]:
        out = {}
        for name, v in self.versions.items():
            native_dtype, native = next(iter(v.items()))
            ints = [n for d, n in v.items() if d.kind == "i"]
            # a float graph input is best compared through its quantized version
            out[name] = ints[0] if native_dtype.kind == "f" and ints else native
        return out


def build_quantized_graph(graph: Graph, range_fn: RangeFn, spec: QuantSpec, *,
                          int16_nodes=frozenset(), float_nodes=frozenset(), weight_clip: str = "mse",
                          range_overrides: dict | None = None, weight_cache: dict | None = None) -> BuildResult:
    """Quantize the lowered float ``graph`` (see module docstring).

    ``range_fn(float_tensor, dtype) -> (lo, hi)`` gives the calibrated range of an
    activation for a storage type; ``range_overrides`` replaces it for named tensors.
    ``weight_cache`` (a dict) may be shared between builds of the same graph to avoid
    re-searching weight clipping.
    """
    precision, fallback = assign_precision(graph, spec, int16_nodes, float_nodes)
    b = _Builder(graph, spec, precision, range_fn, weight_clip, range_overrides, weight_cache)
    b.structure()
    b.params()
    b.outputs()
    b.q.remove_unused()
    missing = [n for n, t in b.q.tensors.items() if t.dtype.kind == "i" and t.quant is None
               and n in b.source]
    assert not missing, f"integer tensors without quant params: {missing[:5]}"
    return BuildResult(b.q, b.tensor_map(), precision, fallback)
