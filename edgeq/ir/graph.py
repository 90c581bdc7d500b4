"""The float IR: typed ``Tensor``, ``Node`` and ``Graph`` with static shapes.

Contract:

* Tensor names are unique in a graph; every node input/output names a tensor in
  ``Graph.tensors`` except ``""`` which marks an omitted optional input.
* A tensor with ``data is not None`` is a constant (initializer); its ``shape`` and
  ``dtype`` match ``data``.
* ``Graph.nodes`` is kept in topological order by the importer and every pass
  (``Graph.toposort()`` restores it).
* Shapes are static after import (``ShapeError`` otherwise); ``-1`` never appears.
* Op types are ONNX op types (default domain) with the newest-opset form of inputs
  (Clip/Pad/Slice/Split/Squeeze/Unsqueeze/Reduce* take constant *inputs*, not
  attributes), plus the edgeq canonical ops listed in :mod:`edgeq.ir.ops`.
* A node may carry ``attrs["act_min"]`` / ``attrs["act_max"]`` (floats): a fused
  activation clamp applied to its output (ReLU → (0, inf), ReLU6 → (0, 6)).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from edgeq.types import QuantParams


@dataclass
class Tensor:
    """A named value: a graph input, an intermediate, an output or a constant."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    data: np.ndarray | None = None
    #: quantization parameters; set only in a quantized graph (see edgeq.types)
    quant: "QuantParams | None" = None

    def __post_init__(self) -> None:
        self.dtype = np.dtype(self.dtype)
        self.shape = tuple(int(d) for d in self.shape)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class Node:
    """One operation. ``inputs``/``outputs`` are tensor names ("" = omitted optional)."""

    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass
class Graph:
    """A dataflow graph of :class:`Node` over :class:`Tensor`."""

    name: str = "graph"
    tensors: dict[str, Tensor] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    opset: int = 17
    metadata: dict[str, str] = field(default_factory=dict)

    # -- queries -----------------------------------------------------------------
    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def is_constant(self, name: str) -> bool:
        return name != "" and name in self.tensors and self.tensors[name].data is not None

    def const(self, name: str) -> np.ndarray | None:
        """The constant value of tensor ``name``, or ``None`` if it is not constant."""
        if not name or name not in self.tensors:
            return None
        return self.tensors[name].data

    def producers(self) -> dict[str, Node]:
        """Map tensor name -> the node producing it."""
        return {out: n for n in self.nodes for out in n.outputs if out}

    def consumers(self) -> dict[str, list[Node]]:
        """Map tensor name -> nodes consuming it (graph outputs are not nodes)."""
        result: dict[str, list[Node]] = defaultdict(list)
        for n in self.nodes:
            for inp in n.inputs:
                if inp:
                    result[inp].append(n)
        return result

    def node_by_name(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def op_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = defaultdict(int)
        for n in self.nodes:
            hist[n.op_type] += 1
        return dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))

    def constants(self) -> Iterable[Tensor]:
        return (t for t in self.tensors.values() if t.data is not None)

    # -- edits -------------------------------------------------------------------
    def unique_name(self, base: str) -> str:
        """A tensor/node name not used yet, derived from ``base``."""
        # builders call this once per inserted node: the tensor dict answers directly and
        # node names are collected once per call (not tensors and nodes into one new set,
        # which made inserting n converters into a graph of N tensors cost n·N set inserts)
        nodes = {n.name for n in self.nodes}
        if base not in self.tensors and base not in nodes:
            return base
        i = 1
        while f"{base}_{i}" in self.tensors or f"{base}_{i}" in nodes:
            i += 1
        return f"{base}_{i}"

    def add_constant(self, base: str, data: np.ndarray) -> str:
        name = self.unique_name(base)
        data = np.asarray(data)
        self.tensors[name] = Tensor(name, data.dtype, data.shape, data)
        return name

    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and graph output) of ``old`` read ``new`` instead."""
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_unused(self) -> None:
        """Dead-node and dead-tensor removal: keep what graph outputs depend on."""
        live: set[str] = set(self.outputs)
        kept: list[Node] = []
        for n in reversed(self.nodes):
            if any(o in live for o in n.outputs if o):
                kept.append(n)
                live.update(i for i in n.inputs if i)
        self.nodes = list(reversed(kept))
        live.update(self.inputs)
        self.tensors = {k: v for k, v in self.tensors.items() if k in live}

    def toposort(self) -> None:
        """Reorder ``nodes`` topologically (stable w.r.t. the current order)."""
        available = set(self.inputs) | {t.name for t in self.constants()} | {""}
        pending = list(self.nodes)
        ordered: list[Node] = []
        while pending:
            progressed = False
            rest = []
            for n in pending:
                if all(i in available for i in n.inputs):
                    ordered.append(n)
                    available.update(n.outputs)
                    progressed = True
                else:
                    rest.append(n)
            if not progressed:
                missing = sorted({i for n in rest for i in n.inputs if i not in available})
                raise ValueError(f"graph has a cycle or dangling inputs: {missing[:5]}")
            pending = rest
        self.nodes = ordered

    def copy(self) -> "Graph":
        """A deep copy (constant arrays are shared: passes must not mutate them in place)."""
        g = Graph(self.name, {}, [], list(self.inputs), list(self.outputs), self.opset, dict(self.metadata))
        g.tensors = {k: _copy_tensor(t) for k, t in self.tensors.items()}
        g.nodes = [Node(n.name, n.op_type, list(n.inputs), list(n.outputs), _copy_attrs(n.attrs), n.domain)
                   for n in self.nodes]
        return g

    # -- statistics -----------------------------------------------------------------
    def parameter_count(self) -> int:
        return sum(t.size for t in self.constants() if t.dtype.kind == "f")

    def parameter_bytes(self) -> int:
        return sum(int(t.data.nbytes) for t in self.constants())


#: attribute values that are never mutated in place: copied by reference
_IMMUTABLE = (int, float, str, bool, bytes, type(None))


def _copy_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a node's attributes: scalars and strings are shared, flat lists of
    them are copied as lists, anything else (arrays, nested values) is deep-copied
    (``copy.deepcopy`` of every dict costs more than the rest of :meth:`Graph.copy`)."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, _IMMUTABLE):
            out[k] = v
        elif type(v) is list and all(isinstance(x, _IMMUTABLE) for x in v):
            out[k] = list(v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _copy_tensor(t: Tensor) -> Tensor:
    """A new Tensor with the fields of ``t`` (data and quant shared, as in Graph.copy);
    fields already in canonical form skip ``__post_init__``'s conversions."""
    if type(t.shape) is tuple and isinstance(t.dtype, np.dtype) and all(type(d) is int for d in t.shape):
        new = object.__new__(Tensor)
        new.__dict__.update(name=t.name, dtype=t.dtype, shape=t.shape, data=t.data, quant=t.quant)
        return new
    return Tensor(t.name, t.dtype, t.shape, t.data, t.quant)
