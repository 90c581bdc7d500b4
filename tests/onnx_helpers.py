"""Small helpers for building ONNX test models with ``onnx.helper`` and running them.

    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       inputs={"x": (1, 3)}, outputs={"y": (1, 3)})
    ort_run(model, {"x": arr})          # onnxruntime, 1 thread
    run_ir(graph, feeds)                # an edgeq IR graph, via edgeq.ir.onnx_export

Output shapes may be ``None`` (left to shape inference). Constants are given as
numpy arrays in ``initializers`` and become initializers under their dict key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Shape = Sequence[int | str | None] | None


def value_info(name: str, shape: Shape, dtype=np.float32) -> onnx.ValueInfoProto:
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def make_model(nodes: list[onnx.NodeProto], *, inputs: Mapping[str, Shape | tuple],
               outputs: Mapping[str, Shape], initializers: Mapping[str, np.ndarray] | None = None,
               opset: int = 17, dtypes: Mapping[str, object] | None = None,
               ir_version: int | None = None, name: str = "test") -> onnx.ModelProto:
    """A checked ModelProto. ``dtypes`` overrides float32 for named inputs/outputs."""
    dtypes = dict(dtypes or {})
    graph = helper.make_graph(
        nodes, name,
        [value_info(k, v, dtypes.get(k, np.float32)) for k, v in inputs.items()],
        [value_info(k, v, dtypes.get(k, np.float32)) for k, v in outputs.items()],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    # onnxruntime accepts IR versions up to what it was built with; pin a safe one
    model.ir_version = ir_version or min(onnx.IR_VERSION, 9 if opset <= 20 else 10)
    if any(v is None for v in outputs.values()):
        # the checker wants output shapes: take them from shape inference
        inferred = onnx.shape_inference.infer_shapes(model)
        for out, vi in zip(model.graph.output, inferred.graph.output):
            if not out.type.tensor_type.HasField("shape"):
                out.type.CopyFrom(vi.type)
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def ort_session(model: onnx.ModelProto):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def ort_run(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray],
            outputs: list[str] | None = None) -> dict[str, np.ndarray]:
    """Run ``model`` in onnxruntime (1 thread); returns ``{output name: array}``."""
    session = ort_session(model)
    names = outputs or [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(feeds))))


def run_ir(graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run an edgeq IR graph in onnxruntime through ``edgeq.ir.onnx_export.to_onnx``."""
    from edgeq.ir.onnx_export import to_onnx

    return ort_run(to_onnx(graph), feeds, outputs=list(graph.outputs))


def check_pass(model: onnx.ModelProto, run, *, input_shapes=None, seed: int = 0,
               rtol: float = 1e-5, atol: float = 1e-5, feeds=None):
    """Import ``model``, apply the pass ``run`` (``run(graph) -> bool``) to a copy, and
    check that onnxruntime on the original model, on the imported graph and on the
    rewritten graph agree on random data. Returns ``(before, after, changed)``."""
    from edgeq.ir.onnx_import import import_onnx

    before = import_onnx(model, input_shapes)
    after = before.copy()
    changed = run(after)
    feeds = feeds or random_feeds(before, seed)
    expected = ort_run(model, feeds)
    for graph in (before, after):
        got = run_ir(graph, feeds)
        for name, value in expected.items():
            np.testing.assert_allclose(got[name], value, rtol=rtol, atol=atol, err_msg=name)
    return before, after, changed


def random_feeds(graph_or_model, seed: int = 0, *, low: float = -3.0, high: float = 3.0) -> dict[str, np.ndarray]:
    """Uniform random float feeds (ints: zeros) for an IR graph or a ModelProto."""
    rng = np.random.default_rng(seed)
    feeds = {}
    if isinstance(graph_or_model, onnx.ModelProto):
        inits = {i.name for i in graph_or_model.graph.initializer}
        specs = []
        for vi in graph_or_model.graph.input:
            if vi.name in inits:
                continue
            tt = vi.type.tensor_type
            specs.append((vi.name, helper.tensor_dtype_to_np_dtype(tt.elem_type),
                          tuple(d.dim_value for d in tt.shape.dim)))
    else:
        specs = [(n, graph_or_model.tensors[n].dtype, graph_or_model.tensors[n].shape)
                 for n in graph_or_model.inputs]
    for name, dtype, shape in specs:
        if np.dtype(dtype).kind == "f":
            feeds[name] = rng.uniform(low, high, size=shape).astype(dtype)
        else:
            feeds[name] = np.zeros(shape, dtype=dtype)
    return feeds


def const_node(name: str, value) -> onnx.NodeProto:
    """A Constant node producing ``name``."""
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name + "_v"))


__all__ = ["TensorProto", "check_pass", "const_node", "helper", "make_model", "numpy_helper", "ort_run",
           "ort_session", "random_feeds", "run_ir", "save", "value_info"]
