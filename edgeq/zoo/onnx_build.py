"""A small, deterministic ONNX graph writer used by the zoo builders.

The zoo pins the sha256 of the models it builds, so a build must produce the same bytes
every time: node and tensor names come from the weight names, the IR version, opset
and producer are fixed here (not taken from the installed onnx), and every weight is
stored as raw little-endian data (``numpy_helper.from_array``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: fixed so the bytes do not depend on the installed onnx's defaults
OPSET = 17
IR_VERSION = 8
PRODUCER = "edgeq.zoo"


class GraphWriter:
    """Accumulates nodes and initializers; :meth:`model` returns the checked ModelProto."""

    def __init__(self, name: str):
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """Add an initializer (name must be unique); returns its name."""
        if name in self._names:
            raise ValueError(f"duplicate tensor name {name}")
        self._names.add(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op_type: str, inputs: list[str], name: str, n_outputs: int = 1,
             **attrs) -> str | list[str]:
        """Add a node named ``name`` whose outputs are ``name`` (or ``name:i``)."""
        outputs = [name] if n_outputs == 1 else [f"{name}:{i}" for i in range(n_outputs)]
        for out in outputs:
            if out in self._names:
                raise ValueError(f"duplicate tensor name {out}")
            self._names.add(out)
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))
        return outputs[0] if n_outputs == 1 else outputs

    def model(self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto],
              metadata: dict[str, str] | None = None, doc: str = "") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, inputs, outputs, self.initializers,
                                  doc_string=doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=PRODUCER, producer_version="1",
                                  ir_version=IR_VERSION)
        for key, value in sorted((metadata or {}).items()):
            prop = model.metadata_props.add()
            prop.key, prop.value = key, value
        onnx.checker.check_model(model, full_check=True)
        return model


def value_info(name: str, elem_type: int, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, list(shape))


FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def serialize(model: onnx.ModelProto) -> bytes:
    """Deterministic bytes of ``model`` (protobuf's deterministic serialisation)."""
    return model.SerializeToString(deterministic=True)


def fix_shapes(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> onnx.ModelProto:
    """Copy of ``model`` whose graph inputs and outputs named in ``shapes`` get those static
    shapes; strict shape inference then checks they agree with the graph.

    Used for the models taken as-is from wheels, whose inputs carry symbolic dims: the
    zoo serves them with the shapes their preprocessing produces, so every tool
    downstream sees static shapes without extra flags.
    """
    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.value_info[:]
    for vi in [*model.graph.input, *model.graph.output]:
        if vi.name in shapes:
            tt = vi.type.tensor_type
            if len(tt.shape.dim) != len(shapes[vi.name]):
                raise ValueError(f"{vi.name} has rank {len(tt.shape.dim)}, not {len(shapes[vi.name])}")
            tt.ClearField("shape")
            for value in shapes[vi.name]:
                tt.shape.dim.add().dim_value = int(value)
    # raises InferenceError when a fixed shape contradicts what the graph computes
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    return model
