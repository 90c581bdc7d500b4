"""Harness for the per-op conformance suite: one-node ONNX models, run by onnxruntime and
by edgeq.

A :class:`Case` names an op, its inputs (graph inputs fed at run time, or constants that
become initializers), attributes and tolerances. ``Case.model()`` builds a checked
one-node ModelProto with ``onnx.helper``. The model reaches the edgeq IR in two ways:

* ``direct_ir(model, ort_outputs)``: a literal transcription (no folding, no passes), so
  the kernel under test is exactly the node in the model;
* ``imported_ir(model)``: through ``edgeq.ir.onnx_import.import_onnx`` (when it exists),
  so the importer's attribute normalisation is covered too.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeq.ir.graph import Graph, Node, Tensor


@dataclass
class Case:
    """One golden case. ``inputs``: ordered ``(name, array, is_constant)``; ``None`` array
    marks an omitted optional input."""

    name: str
    op_type: str
    inputs: list[tuple[str, np.ndarray | None, bool]]
    attrs: dict[str, Any] = field(default_factory=dict)
    n_outputs: int = 1
    opset: int = 18
    rtol: float = 1e-4
    atol: float = 1e-4

    @property
    def feeds(self) -> dict[str, np.ndarray]:
        return {n: a for n, a, const in self.inputs if a is not None and not const}

    def model(self, ref: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
        """The one-node model; output types/shapes are declared when ``ref`` (onnxruntime's
        outputs of the untyped model) is given, as a strict importer requires them."""
        names = [n if a is not None else "" for n, a, _ in self.inputs]
        while names and names[-1] == "":
            names.pop()
        outs = [f"y{i}" for i in range(self.n_outputs)]
        attrs = {k: numpy_helper.from_array(v) if isinstance(v, np.ndarray) else v
                 for k, v in self.attrs.items()}
        node = helper.make_node(self.op_type, names, outs, name=f"{self.name}_node", **attrs)
        graph = helper.make_graph(
            [node], self.name,
            [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
             for n, a, const in self.inputs if a is not None and not const],
            [helper.make_empty_tensor_value_info(o) if ref is None else
             helper.make_tensor_value_info(o, helper.np_dtype_to_tensor_dtype(ref[o].dtype), ref[o].shape)
             for o in outs],
            [numpy_helper.from_array(a, n) for n, a, const in self.inputs if a is not None and const])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", self.opset)])
        return model


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the case name, so each case is reproducible on its own."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def ort_session(model: onnx.ModelProto, *, optimize: bool = False):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    if not optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def ort_run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort_session(model)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def _attr(a: onnx.AttributeProto):
    value = helper.get_attribute_value(a)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode() for v in value]
    return value


def direct_ir(model: onnx.ModelProto, outputs: dict[str, np.ndarray]) -> Graph:
    """Transcribe a one-node model into the IR; output shapes/dtypes come from ``outputs``
    (onnxruntime's results), since shape inference cannot know value-dependent shapes."""
    g = model.graph
    tensors: dict[str, Tensor] = {}
    for vi in g.input:
        tt = vi.type.tensor_type
        tensors[vi.name] = Tensor(vi.name, helper.tensor_dtype_to_np_dtype(tt.elem_type),
                                  tuple(d.dim_value for d in tt.shape.dim))
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        tensors[init.name] = Tensor(init.name, arr.dtype, arr.shape, arr)
    for name, arr in outputs.items():
        tensors[name] = Tensor(name, arr.dtype, arr.shape)
    nodes = [Node(n.name, n.op_type, list(n.input), list(n.output),
                  {a.name: _attr(a) for a in n.attribute}, n.domain) for n in g.node]
    return Graph(g.name, tensors, nodes, [vi.name for vi in g.input],
                 [o.name for o in g.output], model.opset_import[0].version)


def importer():
    """``edgeq.ir.onnx_import.import_onnx`` or ``None`` while it does not exist yet."""
    try:
        from edgeq.ir.onnx_import import import_onnx
    except ImportError:
        return None
    return import_onnx


def assert_close(ours: dict, ref: dict, case: Case, where: str) -> None:
    for name, expected in ref.items():
        got = ours[name]
        assert got.shape == expected.shape, f"{case.name} [{where}] {name}: shape {got.shape} != {expected.shape}"
        if expected.dtype.kind == "f":
            assert got.dtype == expected.dtype, f"{case.name} [{where}] {name}: dtype {got.dtype} != {expected.dtype}"
            np.testing.assert_allclose(got, expected, rtol=case.rtol, atol=case.atol,
                                       err_msg=f"{case.name} [{where}] output {name}")
        else:
            np.testing.assert_array_equal(got, expected, err_msg=f"{case.name} [{where}] output {name}")
            assert got.dtype == expected.dtype, f"{case.name} [{where}] {name}: dtype {got.dtype} != {expected.dtype}"
