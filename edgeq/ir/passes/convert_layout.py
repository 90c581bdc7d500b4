"""Layout conversion NCHW -> NHWC (channels last), shared by the channels-last targets.

Contract of :func:`convert_layout`:

* Returns a new graph computing the same values; the input graph is not modified.
* Every tensor carries a *stored permutation* ``q`` (``stored = orig.transpose(q)``).
  Spatial ops (Conv, AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool) consume
  and produce channels-last tensors (``q = (0, 2, …, r-1, 1)``) and get
  ``attrs["data_layout"] = "NHWC"``; their weights are rewritten: regular/grouped Conv
  filters ``[O, I/g, *k] -> [O, *k, I/g]`` (OHWI), depthwise filters
  (``group == C_in > 1``) ``[C·m, 1, *k] -> [1, *k, C·m]`` with the per-channel
  quantization axis moved from 0 to the last axis; ConvTranspose filters
  ``[I, O, *k] -> [O, *k, I]`` (TRANSPOSE_CONV's OHWI, per-channel axis 1 -> 0).
* Layout-transparent ops (elementwise, Quantize/Dequantize, …) keep their input's
  layout; their constant inputs are broadcast to full rank and permuted.
* Axis-carrying ops are remapped instead of transposed: Concat, Softmax/LogSoftmax,
  Reduce*/ArgMax (axes, keepdims), Gather, Split, Slice, Pad, Resize (scales/sizes).
  Transpose nodes disappear: their output is the input's storage under a new stored
  permutation, and data moves only where a consumer needs another layout (once per
  tensor and layout; a Reshape when only size-1 axes move). Reshape/Flatten/Squeeze/Unsqueeze of a permuted tensor
  that only add or remove size-1 axes become a Reshape of the stored tensor (its output
  keeps a layout with the same element order: original, else channels-last); a reshape
  that regroups axes gets a Transpose back to the original layout first.
* Any other op gets its inputs back in the original layout (a Transpose is inserted).
* Graph inputs that feed a spatial op through layout-transparent ops become NHWC;
  graph outputs are returned in their original layout. ``graph.metadata`` records
  ``layout`` and, as JSON, ``input_layouts`` / ``output_layouts`` (name -> "NCHW"-style
  string) so manifests can state what the artifact expects.

For a CNN this leaves no Transpose at all: :func:`count_transposes` is the check.
"""

from __future__ import annotations

import json
import logging

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.types import QuantParams

logger = logging.getLogger(__name__)

SPATIAL_OPS = frozenset({"Conv", "ConvTranspose", "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool"})
ELEMENTWISE_OPS = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "SquaredDifference",
    "Relu", "Clip", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Gelu", "Silu", "Erf",
    "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Abs", "Neg", "Floor", "Ceil", "Round",
    "LeakyRelu", "PRelu", "Elu", "Softplus", "Mish", "Sign", "Quantize", "Dequantize",
    "QuantizeLinear", "DequantizeLinear", "Identity", "Cast", "Where", "Equal", "Less",
    "Greater", "Not", "And", "Or",
})
REDUCE_OPS = frozenset({"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd",
                        "ReduceL2", "ReduceSumSquare", "ArgMax", "ArgMin"})
RESHAPE_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze"})


def channels_last(rank: int) -> tuple[int, ...]:
    """The NCHW -> NHWC stored permutation for a tensor of ``rank`` (N, C, *spatial)."""
    return (0, *range(2, rank), 1)


def _identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def _inv(q) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(q))


def _layout_name(q: tuple[int, ...]) -> str:
    letters = "NC" + "DHW"[3 - (len(q) - 2):] if len(q) >= 3 else "NC"[: len(q)]
    return "".join(letters[i] for i in q) if len(letters) == len(q) else ",".join(map(str, q))


def count_transposes(graph: Graph) -> int:
    """Number of Transpose nodes in ``graph``."""
    return sum(1 for n in graph.nodes if n.op_type == "Transpose")


def unit_moves_only(shape: tuple[int, ...], q: tuple[int, ...]) -> bool:
    """Whether permuting ``shape`` by ``q`` moves only size-1 axes (same element order)."""
    big = [a for a in q if shape[a] != 1]
    return big == sorted(big)


class _Converter:
    def __init__(self, graph: Graph) -> None:
        self.src = graph
        self.g = graph.copy()
        self.g.nodes = []
        self.perm: dict[str, tuple[int, ...]] = {}
        #: original (NCHW) shape of every tensor, including the ones this pass adds
        self.orig: dict[str, tuple[int, ...]] = {k: t.shape for k, t in graph.tensors.items()}
        #: Identity nodes standing for cancelled transposes
        self.cancelled: set[str] = set()
        #: (tensor, layout) -> the tensor already holding it
        self._made: dict[tuple[str, tuple[int, ...]], str] = {}
        self._const_memo: dict[tuple[str, tuple], str] = {}

    # -- helpers -------------------------------------------------------------------
    def q(self, name: str) -> tuple[int, ...]:
        return self.perm.get(name) or _identity(len(self.g.tensors[name].shape))

    def orig_shape(self, name: str) -> tuple[int, ...]:
        return self.orig[name]

    def set_out(self, name: str, q: tuple[int, ...]) -> None:
        t = self.g.tensors[name]
        t.shape = tuple(self.orig[name][i] for i in q)
        if q != _identity(len(q)):
            self.perm[name] = tuple(q)

    def transposed(self, name: str, want: tuple[int, ...]) -> str:
        """Name of a tensor holding ``name`` stored in permutation ``want`` (made at most
        once per tensor and layout; a Reshape when only size-1 axes move)."""
        have = self.q(name)
        want = tuple(want)
        if have == want:
            return name
        if self.g.is_constant(name):
            return self.permute_const(name, want)
        if (name, want) in self._made:
            return self._made[(name, want)]
        # stored_have -> orig -> stored_want: stored_have.transpose(inv(have)[want])
        p = tuple(_inv(have)[i] for i in want)
        t = self.g.tensors[name]
        out = self.g.unique_name(f"{name}_{_layout_name(want).lower()}")
        shape = tuple(self.orig_shape(name)[i] for i in want)
        self.g.tensors[out] = Tensor(out, t.dtype, shape, None, t.quant)
        self.orig[out] = self.orig[name]
        if unit_moves_only(t.shape, p):
            shape_c = self.g.add_constant(f"{out}_shape", np.array(shape, np.int64))
            self.orig[shape_c] = (len(shape),)
            self.g.nodes.append(Node(self.g.unique_name(f"{out}_reshape"), "Reshape",
                                     [name, shape_c], [out]))
        else:
            self.g.nodes.append(Node(self.g.unique_name(f"{out}_transpose"), "Transpose", [name],
                                     [out], {"perm": list(p)}))
        if want != _identity(len(want)):
            self.perm[out] = want
        self._made[(name, want)] = out
        return out

    def permute_const(self, name: str, want: tuple[int, ...], rank: int | None = None) -> str:
        """A constant broadcast to ``rank`` (leading 1s) and stored in permutation ``want``."""
        key = (name, tuple(want))
        if key in self._const_memo:
            return self._const_memo[key]
        t = self.g.tensors[name]
        data = t.data
        rank = len(want) if rank is None else rank
        lead = rank - data.ndim
        data = data.reshape((1,) * lead + data.shape)
        quant = t.quant
        if quant is not None and quant.axis is not None:
            axis = quant.axis + lead
            quant = QuantParams(quant.scale, quant.zero_point, quant.dtype, _inv(want)[axis])
        new = np.ascontiguousarray(np.transpose(data, want))
        out = self.g.add_constant(f"{name}_{_layout_name(tuple(want)).lower()}", new)
        self.g.tensors[out].quant = quant
        self.orig[out] = data.shape
        self._const_memo[key] = out
        return out

    def const_input(self, node: Node, index: int, value: np.ndarray) -> None:
        name = node.inputs[index]
        base = name or f"{node.name}_in{index}"
        node.inputs[index] = self.g.add_constant(f"{base}_nhwc", np.asarray(value))
        self.orig[node.inputs[index]] = np.asarray(value).shape

    # -- per-op rules -------------------------------------------------------------
    def run(self) -> Graph:
        for name in self.src.inputs:
            t = self.g.tensors[name]
            if len(t.shape) >= 3 and self._feeds_spatial(name):
                self.set_out(name, channels_last(len(t.shape)))
        for node in self.src.nodes:
            node = Node(node.name, node.op_type, list(node.inputs), list(node.outputs),
                        dict(node.attrs), node.domain)
            self.convert(node)
            self.g.nodes.append(node)
        in_layouts = {n: _layout_name(self.q(n)) for n in self.src.inputs if len(self.g.tensors[n].shape) >= 3}
        for name in self.g.outputs:
            if self.q(name) != _identity(len(self.q(name))):
                self._restore_output(name)
        out_layouts = {n: _layout_name(self.q(n)) for n in self.g.outputs if len(self.g.tensors[n].shape) >= 3}
        self.g.metadata["layout"] = "NHWC"
        self.g.metadata["input_layouts"] = json.dumps(in_layouts)
        self.g.metadata["output_layouts"] = json.dumps(out_layouts)
        self.g.remove_unused()
        self.g.toposort()
        return self.g

    def _restore_output(self, name: str) -> None:
        """Give graph output ``name`` its original layout, keeping its name."""
        inner = self.g.unique_name(f"{name}_nhwc")
        t = self.g.tensors.pop(name)
        self.g.tensors[inner] = Tensor(inner, t.dtype, t.shape, t.data, t.quant)
        self.orig[inner] = self.orig[name]
        self.perm[inner] = self.perm.pop(name)
        for n in self.g.nodes:
            n.inputs = [inner if i == name else i for i in n.inputs]
            n.outputs = [inner if o == name else o for o in n.outputs]
        p = _inv(self.perm[inner])
        self.g.tensors[name] = Tensor(name, t.dtype, self.orig[name], None, t.quant)
        self.g.nodes.append(Node(self.g.unique_name(f"{name}_to_original_layout"), "Transpose",
                                 [inner], [name], {"perm": list(p)}))

    def _feeds_spatial(self, name: str) -> bool:
        consumers = self.src.consumers()
        seen, todo = set(), [name]
        while todo:
            cur = todo.pop()
            for n in consumers.get(cur, []):
                if n.op_type in SPATIAL_OPS or (n.op_type == "Resize" and len(self.orig_shape(cur)) == 4):
                    return True
                if (n.op_type in ELEMENTWISE_OPS or n.op_type in {"Pad", "Slice", "Concat",
                                                                  "Squeeze", "Unsqueeze"}) \
                        and n.name not in seen:
                    seen.add(n.name)
                    todo.extend(o for o in n.outputs if o)
        return False

    def convert(self, node: Node) -> None:
        op = node.op_type
        if op in SPATIAL_OPS:
            self._spatial(node)
        elif op in ELEMENTWISE_OPS:
            self._elementwise(node)
        elif op == "Concat":
            self._concat(node)
        elif op in {"Softmax", "LogSoftmax", "Hardmax", "Split", "Gather"} or op in REDUCE_OPS:
            self._axis_op(node)
        elif op in {"Slice", "Pad", "Resize"}:
            self._per_axis_inputs(node)
        elif op == "Transpose":
            self._transpose(node)
        elif op in RESHAPE_OPS:
            self._reshape(node)
        else:
            self._to_identity(node)

    def _to_identity(self, node: Node) -> None:
        node.inputs = [self.transposed(i, _identity(len(self.q(i)))) if i else i for i in node.inputs]
        for o in node.outputs:
            if o:
                self.set_out(o, _identity(len(self.orig_shape(o))))

    def _spatial(self, node: Node) -> None:
        x = node.inputs[0]
        rank = len(self.orig_shape(x))
        cl = channels_last(rank)
        node.inputs[0] = self.transposed(x, cl)
        node.attrs["data_layout"] = "NHWC"
        if node.op_type == "Conv":
            w = node.inputs[1]
            if not self.g.is_constant(w):
                raise ValueError(f"node '{node.name}': Conv with a non-constant filter cannot be "
                                 "converted to NHWC")
            group = int(node.attrs.get("group", 1))
            c_in = self.orig_shape(x)[1]
            depthwise = group > 1 and group == c_in
            wr = len(self.orig_shape(w))
            want = (1, *range(2, wr), 0) if depthwise else (0, *range(2, wr), 1)
            node.inputs[1] = self.permute_const(w, want)
            node.attrs["depthwise"] = depthwise
        elif node.op_type == "ConvTranspose":
            w = node.inputs[1]
            if not self.g.is_constant(w):
                raise ValueError(f"node '{node.name}': ConvTranspose with a non-constant filter "
                                 "cannot be converted to NHWC")
            wr = len(self.orig_shape(w))
            node.inputs[1] = self.permute_const(w, (1, *range(2, wr), 0))
        for o in node.outputs:
            if o:
                self.set_out(o, cl)

    def _elementwise(self, node: Node) -> None:
        rank = len(self.orig_shape(node.outputs[0]))
        # the layout most full-rank activation inputs already have (ties: the first
        # non-original one), so that the fewest of them move
        perms = [self.q(i) for i in node.inputs
                 if i and not self.g.is_constant(i) and len(self.orig_shape(i)) == rank]
        target = _identity(rank)
        if perms:
            ranked = sorted(set(perms), key=lambda q: (-perms.count(q), q == _identity(rank),
                                                       perms.index(q)))
            target = ranked[0]
        ident = target == _identity(rank)
        for k, i in enumerate(node.inputs):
            if not i:
                continue
            if self.g.is_constant(i):
                if not ident and self.g.tensors[i].data.ndim > 0:
                    node.inputs[k] = self.permute_const(i, target, rank)
            elif len(self.orig_shape(i)) == rank:
                node.inputs[k] = self.transposed(i, target)
            else:  # lower-rank activation: original layout, then broadcast explicitly
                node.inputs[k] = self.transposed(i, _identity(len(self.q(i))))
                if not ident:
                    node.inputs[k] = self._expand_rank(node.inputs[k], rank, target)
        if "axis" in node.attrs and node.op_type in {"Quantize", "Dequantize", "QuantizeLinear",
                                                    "DequantizeLinear"}:
            node.attrs["axis"] = _inv(target)[int(node.attrs["axis"]) % rank]
        for o in node.outputs:
            if o:
                self.set_out(o, target)

    def _expand_rank(self, name: str, rank: int, target: tuple[int, ...]) -> str:
        t = self.g.tensors[name]
        full = (1,) * (rank - len(t.shape)) + t.shape
        shaped = self.g.unique_name(f"{name}_rank{rank}")
        self.g.tensors[shaped] = Tensor(shaped, t.dtype, full, None, t.quant)
        self.orig[shaped] = full
        shape_c = self.g.add_constant(f"{shaped}_shape", np.array(full, np.int64))
        self.g.nodes.append(Node(self.g.unique_name(f"{shaped}_reshape"), "Reshape",
                                 [name, shape_c], [shaped]))
        return self.transposed(shaped, target)

    def _concat(self, node: Node) -> None:
        rank = len(self.orig_shape(node.outputs[0]))
        target = next((self.q(i) for i in node.inputs if i and not self.g.is_constant(i)), _identity(rank))
        node.inputs = [self.transposed(i, target) if i else i for i in node.inputs]
        node.attrs["axis"] = _inv(target)[int(node.attrs.get("axis", 0)) % rank]
        self.set_out(node.outputs[0], target)

    def _axis_op(self, node: Node) -> None:
        x = node.inputs[0]
        q, rank = self.q(x), len(self.q(x))
        op = node.op_type
        if op == "Gather":
            a = int(node.attrs.get("axis", 0)) % rank
            k = len(self.orig_shape(node.inputs[1]))
            node.attrs["axis"] = _inv(q)[a]
            to_out = [(d if d < a else d - 1 + k) for d in q]
            out_q = to_out[:_inv(q)[a]] + [a + t for t in range(k)] + to_out[_inv(q)[a] + 1:]
            self.set_out(node.outputs[0], tuple(out_q))
            return
        if op in REDUCE_OPS:
            if len(node.inputs) > 1 and node.inputs[1]:
                axes = [int(a) % rank for a in np.atleast_1d(self.g.const(node.inputs[1]))]
                self.const_input(node, 1, np.array(sorted(_inv(q)[a] for a in axes), np.int64))
            elif "axes" in node.attrs or op in {"ArgMax", "ArgMin"}:
                key = "axis" if op in {"ArgMax", "ArgMin"} else "axes"
                raw = node.attrs.get(key, 0)
                axes = [int(a) % rank for a in np.atleast_1d(raw)]
                new = [_inv(q)[a] for a in axes]
                node.attrs[key] = new[0] if key == "axis" else sorted(new)
            else:
                axes = list(range(rank))
            if int(node.attrs.get("keepdims", 1)):
                out_q = q
            else:
                kept = [d for d in q if d not in axes]
                out_q = tuple(int(i) for i in np.argsort(np.argsort(kept))) if kept else ()
            for o in node.outputs:
                if o:
                    self.set_out(o, tuple(out_q))
            return
        node.attrs["axis"] = _inv(q)[int(node.attrs.get("axis", -1 if op != "Split" else 0)) % rank]
        for o in node.outputs:
            if o:
                self.set_out(o, q)

    def _per_axis_inputs(self, node: Node) -> None:
        x = node.inputs[0]
        q, rank = self.q(x), len(self.q(x))
        if node.op_type == "Resize" and rank == 4 and q == _identity(rank):
            # image resizes (RESIZE_* builtins) work on H and W of NHWC tensors
            node.inputs[0] = x = self.transposed(x, channels_last(rank))
            q = self.q(x)
        if q == _identity(rank):
            self._to_identity(node)
            return
        if node.op_type == "Pad":
            pads = np.asarray(self.g.const(node.inputs[1])).reshape(2, -1)
            axes_in = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else ""
            full = np.zeros((2, rank), np.int64)
            axes = ([int(a) % rank for a in self.g.const(axes_in)] if axes_in else list(range(rank)))
            full[:, axes] = pads
            self.const_input(node, 1, full[:, list(q)].reshape(-1))
            if axes_in:
                node.inputs[3] = ""
        elif node.op_type == "Slice":
            axes_in = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else ""
            n = len(self.g.const(node.inputs[1]))
            axes = [int(a) % rank for a in self.g.const(axes_in)] if axes_in else list(range(n))
            new_axes = np.array([_inv(q)[a] for a in axes], np.int64)
            while len(node.inputs) < 4:
                node.inputs.append("")
            self.const_input(node, 3, new_axes)
        else:  # Resize: roi/scales/sizes are per axis
            for k in (2, 3):
                if len(node.inputs) > k and node.inputs[k]:
                    v = np.asarray(self.g.const(node.inputs[k]))
                    if v.size == rank:
                        self.const_input(node, k, v[list(q)])
            node.attrs["data_layout"] = "NHWC"
        self.set_out(node.outputs[0], q)

    def _transpose(self, node: Node) -> None:
        """A Transpose costs nothing: its output is the input's storage, described by a
        new stored permutation; the data moves only where a consumer needs a layout."""
        x, out = node.inputs[0], node.outputs[0]
        rank = len(self.q(x))
        p = tuple(int(i) for i in node.attrs.get("perm", range(rank - 1, -1, -1)))
        # out = orig_in.transpose(p), stored_in = orig_in.transpose(q) = out.transpose(inv(p)[q])
        s = tuple(_inv(p)[i] for i in self.q(x))
        node.op_type, node.attrs = "Identity", {}
        self.cancelled.add(node.name)
        self.set_out(out, s)

    def _reshape(self, node: Node) -> None:
        """A reshape that only adds/removes size-1 axes (Squeeze, Unsqueeze, the Flatten
        after global pooling …) keeps the stored element order in any layout: it becomes
        a Reshape of the stored tensor, and its output gets the layout (original, else
        channels-last, else derived) whose non-unit axes keep that order."""
        x, out = node.inputs[0], node.outputs[0]
        q = self.q(x)
        if q == _identity(len(q)):
            self._to_identity(node)
            return
        in_shape, out_shape = self.orig_shape(x), self.orig_shape(out)
        in_big = [a for a in range(len(in_shape)) if in_shape[a] != 1]
        out_big = [a for a in range(len(out_shape)) if out_shape[a] != 1]
        if [in_shape[a] for a in in_big] != [out_shape[a] for a in out_big]:
            self._to_identity(node)  # a real reshape: needs the original element order
            return
        to_out = dict(zip(in_big, out_big))
        stored = [to_out[a] for a in q if in_shape[a] != 1]
        rank = len(out_shape)
        derived = tuple(stored + [a for a in range(rank) if out_shape[a] == 1])
        candidates = [_identity(rank)] + ([channels_last(rank)] if rank >= 3 else []) + [derived]
        p = next(c for c in candidates if [a for a in c if out_shape[a] != 1] == stored)
        shape_c = self.g.add_constant(f"{out}_shape", np.array([out_shape[a] for a in p], np.int64))
        self.orig[shape_c] = (rank,)
        node.op_type, node.inputs, node.attrs = "Reshape", [x, shape_c], {}
        self.set_out(out, p)


def convert_layout(graph: Graph) -> Graph:
    """Return ``graph`` converted to channels-last (see the module docstring)."""
    if graph.metadata.get("layout") == "NHWC":
        return graph
    conv = _Converter(graph)
    out = conv.run()
    _drop_identities(out, conv.cancelled)
    logger.debug("convert_layout: %d Transpose node(s) left", count_transposes(out))
    return out


def _drop_identities(g: Graph, names: set[str]) -> None:
    """Remove the Identity nodes left by cancelled transposes (graph outputs kept)."""
    for node in list(g.nodes):
        if node.name not in names:
            continue
        src, dst = node.inputs[0], node.outputs[0]
        if dst in g.outputs:
            if src in g.inputs or src in g.outputs:
                continue
            # make the producer write the output name directly
            for n in g.nodes:
                n.outputs = [dst if o == src else o for o in n.outputs]
                n.inputs = [dst if i == src else i for i in n.inputs]
            g.tensors[dst].shape = g.tensors[src].shape
            g.nodes.remove(node)
            continue
        g.nodes.remove(node)
        g.replace_uses(dst, src)
    g.remove_unused()
