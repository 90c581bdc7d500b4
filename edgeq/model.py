"""The user-facing float model: ``edgeq.load(path, input_shapes=None) -> Model``.

Contract:

* :func:`load` imports the ONNX file (:func:`edgeq.ir.onnx_import.import_onnx`, static
  shapes from the model or ``input_shapes``) and canonicalises it
  (:func:`edgeq.ir.pipeline.canonicalize`). Errors are the importer's
  (ModelLoadError, ShapeError, UsageError, UnsupportedOpError).
* ``Model.graph`` is the canonical float graph, ``Model.path`` the file, ``Model.sha256``
  the hex SHA-256 of the model file's bytes (for a model with external data files,
  of the model file followed by each data file, in name order),
  ``Model.input_specs`` / ``output_specs`` the graph's inputs/outputs as
  :class:`TensorSpec`.
* ``Model.run(feeds)`` is the float reference: edgeq's float interpreter
  (:func:`edgeq.interp.float_interp.run_graph`), ONNX semantics.
* ``Model.summary()`` is a JSON-ready dict: inputs/outputs (name, shape, dtype), the
  op histogram after canonicalisation, node count, parameter count and bytes, MACs
  (total and per op type) and the nodes the float interpreter cannot run, by name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from edgeq.ir.graph import Graph

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class TensorSpec:
    """A graph input or output: name, static shape, numpy dtype name."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


def _specs(graph: Graph, names: list[str]) -> list[TensorSpec]:
    return [TensorSpec(n, graph.tensors[n].shape, graph.tensors[n].dtype.name) for n in names]


class Model:
    """A loaded, canonicalised float model (see the module contract)."""

    def __init__(self, graph: Graph, *, path: Path | None = None, sha256: str | None = None,
                 imported: Graph | None = None) -> None:
        self.graph = graph
        self.path = path
        self.sha256 = sha256
        #: the graph as imported, before canonicalisation
        self.imported = imported

    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else self.graph.name

    @property
    def input_specs(self) -> list[TensorSpec]:
        return _specs(self.graph, self.graph.inputs)

    @property
    def output_specs(self) -> list[TensorSpec]:
        return _specs(self.graph, self.graph.outputs)

    def run(self, feeds: Mapping[str, np.ndarray], outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run the float reference on ``feeds``; returns the outputs (or ``outputs=``)."""
        from edgeq.interp.float_interp import run_graph

        return run_graph(self.graph, feeds, outputs=outputs)

    def summary(self) -> dict:
        """Inputs, outputs, op histogram, parameters, MACs and unsupported nodes."""
        from edgeq.interp.float_ops import FLOAT_OPS

        by_op = macs_by_op(self.graph)
        unsupported = [{"name": n.name, "op_type": n.op_type, "domain": n.domain}
                       for n in self.graph.nodes if n.domain != "" or n.op_type not in FLOAT_OPS]
        return {
            "name": self.name,
            "path": str(self.path) if self.path is not None else None,
            "sha256": self.sha256,
            "opset": int(self.graph.metadata.get("source_opset", self.graph.opset)),
            "inputs": [s.to_dict() for s in self.input_specs],
            "outputs": [s.to_dict() for s in self.output_specs],
            "nodes": len(self.graph.nodes),
            "op_histogram": self.graph.op_histogram(),
            "parameters": self.graph.parameter_count(),
            "parameter_bytes": self.graph.parameter_bytes(),
            "macs": sum(by_op.values()),
            "macs_by_op": by_op,
            "unsupported_nodes": unsupported,
        }

    def __repr__(self) -> str:
        ins = ", ".join(f"{s.name}{list(s.shape)}" for s in self.input_specs)
        return f"Model({self.name!r}, inputs=[{ins}], nodes={len(self.graph.nodes)})"


def load(path: str | os.PathLike | onnx.ModelProto,
         input_shapes: Mapping[str, object] | None = None) -> Model:
    """Load and canonicalise an ONNX model file (see the module contract).

    ``path`` may also be an ``onnx.ModelProto``; then ``Model.path`` is None and
    ``sha256`` hashes its serialisation.
    """
    from collections.abc import Mapping as MappingABC

    import onnx

    from edgeq.errors import check_argument
    from edgeq.ir.onnx_import import import_onnx
    from edgeq.ir.pipeline import canonicalize

    check_argument("load", "path", path, (str, os.PathLike, onnx.ModelProto),
                   "the path of an .onnx file (or an onnx.ModelProto)")
    if input_shapes is not None:
        check_argument("load", "input_shapes", input_shapes, MappingABC,
                       "a mapping of input name to shape, e.g. {'input': (1, 3, 224, 224)}")
    imported = import_onnx(path, input_shapes)
    if isinstance(path, onnx.ModelProto):
        sha = hashlib.sha256(path.SerializeToString()).hexdigest()
        return Model(canonicalize(imported), path=None, sha256=sha, imported=imported)
    path = Path(path)
    return Model(canonicalize(imported), path=path, sha256=file_sha256(path), imported=imported)


def file_sha256(path: Path) -> str:
    """SHA-256 of the model file, then of its external data files (sorted by name)."""
    import onnx

    digest = hashlib.sha256()
    _update(digest, path)
    proto = onnx.load(str(path), load_external_data=False)
    locations: set[str] = set()
    for init in proto.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            locations.update(e.value for e in init.external_data if e.key == "location")
    for location in sorted(locations):
        _update(digest, path.parent / location)
    return digest.hexdigest()


def _update(digest, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


# -- MACs ------------------------------------------------------------------------------
def node_macs(graph: Graph, node) -> int:
    """Multiply-accumulates of one node (0 for ops that are not MAC-bound)."""
    t = graph.tensors
    op = node.op_type
    if op == "Conv":
        # each output element sums C_in/group · prod(kernel) products (W is [M, C/g, k...])
        return t[node.outputs[0]].size * int(np.prod(t[node.inputs[1]].shape[1:]))
    if op == "ConvTranspose":
        # each input element scatters into M/group · prod(kernel) outputs (W is [C, M/g, k...])
        return t[node.inputs[0]].size * int(np.prod(t[node.inputs[1]].shape[1:]))
    if op == "FullyConnected":
        return t[node.outputs[0]].size * t[node.inputs[1]].shape[1]
    if op == "MatMul":
        a = t[node.inputs[0]].shape
        return t[node.outputs[0]].size * a[-1]
    if op == "Gemm":
        a = t[node.inputs[0]].shape
        k = a[0] if node.attrs.get("transA", 0) else a[1]
        return t[node.outputs[0]].size * k
    if op in ("LSTM", "GRU", "RNN"):
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
        seq, batch, features = t[node.inputs[0]].shape
        if node.attrs.get("layout", 0):
            batch, seq = seq, batch
        w = t[node.inputs[1]].shape  # [directions, gates·hidden, input]
        hidden = w[1] // gates
        return seq * batch * w[0] * gates * hidden * (features + hidden)
    return 0


def macs_by_op(graph: Graph) -> dict[str, int]:
    result: dict[str, int] = {}
    for node in graph.nodes:
        macs = node_macs(graph, node)
        if macs:
            result[node.op_type] = result.get(node.op_type, 0) + macs
    return result
