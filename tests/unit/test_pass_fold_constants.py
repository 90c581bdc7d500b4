"""Constant folding at import (shape subgraphs, If specialisation, dead nodes,
onnxruntime shape fallback, external data) and as an IR pass."""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import const_node, make_model, ort_run, random_feeds, run_ir  # noqa: E402

from edgeq.ir.graph import Graph, Node, Tensor  # noqa: E402
from edgeq.ir.onnx_import import import_onnx  # noqa: E402
from edgeq.ir.passes import fold_constants  # noqa: E402


def assert_same(model, graph, seed=0):
    feeds = random_feeds(graph, seed)
    expected = ort_run(model, feeds)
    got = run_ir(graph, feeds)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-6)


def flatten_by_shape_model():
    """y = Reshape(x, [Shape(x)[0], -1]) + Expand(ConstantOfShape(...)) with Range/Cast:
    the shape subgraph exporters write for dynamic batch."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        const_node("zero", np.array(0, np.int64)),
        helper.make_node("Gather", ["shp", "zero"], ["batch"], axis=0),
        const_node("ax0", np.array([0], np.int64)),
        helper.make_node("Unsqueeze", ["batch", "ax0"], ["batch1"]),
        const_node("minus1", np.array([-1], np.int64)),
        helper.make_node("Concat", ["batch1", "minus1"], ["new_shape"], axis=0),
        helper.make_node("Reshape", ["x", "new_shape"], ["flat"]),
        # Range(0, 12) cast to float, expanded over the batch: a position-style constant
        const_node("start", np.array(0, np.int64)), const_node("step", np.array(1, np.int64)),
        helper.make_node("Shape", ["flat"], ["flat_shape"]),
        const_node("one", np.array(1, np.int64)),
        helper.make_node("Gather", ["flat_shape", "one"], ["width"], axis=0),
        helper.make_node("Range", ["start", "width", "step"], ["pos"]),
        helper.make_node("Cast", ["pos"], ["posf"], to=TensorProto.FLOAT),
        helper.make_node("Expand", ["posf", "flat_shape"], ["pos_full"]),
        helper.make_node("ConstantOfShape", ["flat_shape"], ["half"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
        helper.make_node("Mul", ["pos_full", "half"], ["scaled"]),
        helper.make_node("Add", ["flat", "scaled"], ["y"]),
        helper.make_node("Relu", ["x"], ["dead"]),  # feeds nothing: removed
    ]
    return make_model(nodes, inputs={"x": ("N", 3, 2, 2)}, outputs={"y": ("N", 12)})


def test_shape_subgraph_folds_to_compute_nodes_only():
    model = flatten_by_shape_model()
    g = import_onnx(model, {"x": (2, 3, 2, 2)})
    assert g.op_histogram() == {"Add": 1, "Reshape": 1}
    reshape = g.nodes[0] if g.nodes[0].op_type == "Reshape" else g.nodes[1]
    assert g.const(reshape.inputs[1]).tolist() == [2, -1]
    add = next(n for n in g.nodes if n.op_type == "Add")
    pos = g.const(add.inputs[1])
    np.testing.assert_array_equal(pos, np.broadcast_to(np.arange(12) * 0.5, (2, 12)))
    assert "dead" not in g.tensors
    assert_same(model, g)


def test_if_with_constant_condition_is_specialised():
    """``if x.shape[1] == 3: y = x * 2 else: y = x - 1`` at a static shape."""
    then_g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["t_out"])], "then", [],
                               [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, None)],
                               [onnx.numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "one"], ["e_out"])], "else", [],
                               [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             const_node("i1", np.array(1, np.int64)), const_node("three", np.array(3, np.int64)),
             helper.make_node("Gather", ["s", "i1"], ["c"], axis=0),
             helper.make_node("Equal", ["c", "three"], ["cond"]),
             helper.make_node("If", ["cond"], ["z"], name="branch", then_branch=then_g, else_branch=else_g),
             helper.make_node("Relu", ["z"], ["y"])]
    model = make_model(nodes, inputs={"x": ("N", "C")}, outputs={"y": ("N", "C")},
                       initializers={"one": np.array(1.0, np.float32)})
    for shape, op in (((2, 3), "Mul"), ((2, 4), "Sub")):
        g = import_onnx(model, {"x": shape})
        assert g.op_histogram() == {op: 1, "Relu": 1}
        assert_same(model, g)


def test_unknown_shapes_come_from_onnxruntime():
    """onnx has no shape function for com.microsoft ops; one onnxruntime run fills in."""
    nodes = [helper.make_node("Gelu", ["x"], ["g"], domain="com.microsoft", name="ms_gelu"),
             helper.make_node("Relu", ["g"], ["y"])]
    graph = helper.make_graph(nodes, "ms", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)], ir_version=9)
    g = import_onnx(model, {"x": (3, 5)})
    assert g.tensors["g"].shape == (3, 5) and g.tensors["y"].shape == (3, 5)
    assert g.node_by_name("ms_gelu").domain == "com.microsoft"


def test_external_data_loads(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 32)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    model = make_model(nodes, inputs={"x": (2, 32)}, outputs={"y": (2, 16)}, initializers={"w": w, "b": b})
    path = tmp_path / "sub" / "ext.onnx"
    path.parent.mkdir()
    on_disk = onnx.ModelProto()
    on_disk.CopyFrom(model)  # onnx.save moves the data of what it saves out of the proto
    onnx.save(on_disk, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    assert (path.parent / "weights.bin").stat().st_size >= w.nbytes + b.nbytes
    g = import_onnx(path)
    np.testing.assert_array_equal(g.const("w"), w)
    np.testing.assert_array_equal(g.const("b"), b)
    assert_same(model, g)


def test_big_results_are_not_materialised(monkeypatch):
    monkeypatch.setattr(fold_constants, "MAX_FOLD_ELEMENTS", 100)
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
             helper.make_node("Add", ["x", "big"], ["y"])]
    model = make_model(nodes, inputs={"x": (20, 20)}, outputs={"y": (20, 20)},
                       initializers={"shape": np.array([20, 20], np.int64)})
    g = import_onnx(model)
    assert g.op_histogram() == {"Add": 1, "ConstantOfShape": 1}
    assert_same(model, g)


def test_ir_pass_folds_constant_nodes_and_shape():
    g = Graph(inputs=["x"], outputs=["y"], opset=21)
    g.tensors["x"] = Tensor("x", np.float32, (2, 3))
    g.add_constant("w", np.arange(6, dtype=np.float32).reshape(3, 2))
    for name, shape, dtype in (("wt", (2, 3), np.float32), ("s", (2,), np.int64),
                               ("r", (3, 2), np.float32), ("y", (3, 2), np.float32)):
        g.tensors[name] = Tensor(name, dtype, shape)
    g.nodes = [Node("t", "Transpose", ["w"], ["wt"], {"perm": [1, 0]}),
               Node("shape", "Shape", ["x"], ["s"]),
               Node("r", "Reshape", ["x", "s_rev"], ["r"]),
               Node("add", "Add", ["r", "w"], ["y"])]
    g.add_constant("s_rev", np.array([3, 2], np.int64))
    assert fold_constants.run(g)
    assert [n.op_type for n in g.nodes] == ["Reshape", "Add"]
    np.testing.assert_array_equal(g.const("wt"), np.arange(6, dtype=np.float32).reshape(3, 2).T)
    assert g.const("s").tolist() == [2, 3]
    assert not fold_constants.run(g)
