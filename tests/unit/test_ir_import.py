"""ONNX import: attribute-vs-input op versions across opsets 11-21 come out in one
(newest, input) form and compute what onnxruntime computes on the original model."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, random_feeds, run_ir  # noqa: E402

from edgeq.ir.onnx_import import IR_OPSET, import_onnx  # noqa: E402


def imported_matches_ort(model, input_shapes=None, seed=0):
    graph = import_onnx(model, input_shapes)
    feeds = random_feeds(graph, seed)
    expected = ort_run(model, feeds)
    got = run_ir(graph, feeds)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-6, atol=1e-6, err_msg=name)
        assert graph.tensors[name].shape == value.shape
    return graph


def only(graph, op_type):
    nodes = [n for n in graph.nodes if n.op_type == op_type]
    assert len(nodes) == 1, graph.op_histogram()
    return nodes[0]


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze_axes_become_inputs(opset):
    kw = {"axes": [1]} if opset < 13 else {}
    inputs = ["x"] if opset < 13 else ["x", "ax"]
    nodes = [helper.make_node("Squeeze", inputs, ["s"], **kw),
             helper.make_node("Unsqueeze", ["s"] if opset < 13 else ["s", "ax"], ["y"], **kw)]
    inits = {} if opset < 13 else {"ax": np.array([1], np.int64)}
    g = imported_matches_ort(make_model(nodes, inputs={"x": (2, 1, 3)}, outputs={"y": None},
                                        initializers=inits, opset=opset))
    for op in ("Squeeze", "Unsqueeze"):
        node = only(g, op)
        assert not node.attrs and g.const(node.inputs[1]).tolist() == [1]
    assert g.opset == IR_OPSET and g.metadata["source_opset"] == str(opset)


def test_squeeze_without_axes_gets_explicit_axes():
    model = make_model([helper.make_node("Squeeze", ["x"], ["y"])],
                       inputs={"x": (1, 4, 1, 2)}, outputs={"y": None}, opset=13)
    g = imported_matches_ort(model)
    assert g.const(only(g, "Squeeze").inputs[1]).tolist() == [0, 2]


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_reduce_axes_become_inputs(opset):
    attr_form = opset < 18
    mean = helper.make_node("ReduceMean", ["x"] if attr_form else ["x", "ax"], ["m"], keepdims=1,
                            **({"axes": [-1]} if attr_form else {}))
    sum_attr = opset < 13
    total = helper.make_node("ReduceSum", ["m"] if sum_attr else ["m", "ax"], ["y"], keepdims=0,
                             **({"axes": [-1]} if sum_attr else {}))
    inits = {} if attr_form and sum_attr else {"ax": np.array([-1], np.int64)}
    g = imported_matches_ort(make_model([mean, total], inputs={"x": (2, 3, 4)}, outputs={"y": None},
                                        initializers=inits, opset=opset))
    for op in ("ReduceMean", "ReduceSum"):
        node = only(g, op)
        assert "axes" not in node.attrs and g.const(node.inputs[1]).tolist() == [-1]


@pytest.mark.parametrize("form", ["attr11", "equal11", "input13", "num_outputs18"])
def test_split_always_gets_split_sizes(form):
    opset = {"attr11": 11, "equal11": 11, "input13": 13, "num_outputs18": 18}[form]
    kw, inputs, inits = {"axis": 1}, ["x"], {}
    if form == "attr11":
        kw["split"] = [2, 4]
    elif form == "input13":
        inputs, inits = ["x", "sp"], {"sp": np.array([2, 4], np.int64)}
    elif form == "num_outputs18":
        kw["num_outputs"] = 2
    model = make_model([helper.make_node("Split", inputs, ["a", "b"], **kw)],
                       inputs={"x": (2, 6)}, outputs={"a": None, "b": None}, initializers=inits, opset=opset)
    g = imported_matches_ort(model)
    node = only(g, "Split")
    expected = [2, 4] if form in ("attr11", "input13") else [3, 3]
    assert g.const(node.inputs[1]).tolist() == expected and "num_outputs" not in node.attrs


def test_clip_pad_slice_inputs_at_opset11():
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["c"]),
             helper.make_node("Pad", ["c", "pads", "pv"], ["p"], mode="constant"),
             helper.make_node("Slice", ["p", "st", "en", "ax"], ["y"])]
    inits = {"lo": np.array(-1.0, np.float32), "hi": np.array(1.0, np.float32),
             "pads": np.array([0, 1, 0, 2], np.int64), "pv": np.array(0.5, np.float32),
             "st": np.array([1], np.int64), "en": np.array([-1], np.int64), "ax": np.array([1], np.int64)}
    g = imported_matches_ort(make_model(nodes, inputs={"x": (2, 5)}, outputs={"y": None},
                                        initializers=inits, opset=11))
    assert g.tensors["y"].shape == (2, 6)


def test_resize_opset11_empty_placeholders_are_omitted():
    node = helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"], mode="nearest")
    inits = {"roi": np.zeros(0, np.float32), "scales": np.zeros(0, np.float32),
             "sizes": np.array([1, 2, 8, 12], np.int64)}
    g = imported_matches_ort(make_model([node], inputs={"x": (1, 2, 4, 6)}, outputs={"y": None},
                                        initializers=inits, opset=11))
    resize = only(g, "Resize")
    assert resize.inputs[1:3] == ["", ""] and g.const(resize.inputs[3]).tolist() == [1, 2, 8, 12]
    assert g.tensors["y"].shape == (1, 2, 8, 12)


def test_resize_roi_dropped_unless_crop_and_resize():
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear",
                            coordinate_transformation_mode="half_pixel")
    inits = {"roi": np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32),
             "scales": np.array([1, 1, 2, 1.5], np.float32)}
    g = imported_matches_ort(make_model([node], inputs={"x": (1, 2, 4, 6)}, outputs={"y": None},
                                        initializers=inits, opset=13))
    assert only(g, "Resize").inputs[1] == "" and g.tensors["y"].shape == (1, 2, 8, 9)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_pre13_softmax_flattening_semantics(op):
    """Softmax-11 with axis=1 on rank 3 normalises over the last two axes together."""
    model = make_model([helper.make_node(op, ["x"], ["y"], axis=1)], inputs={"x": (2, 3, 4)},
                       outputs={"y": None}, opset=11)
    g = imported_matches_ort(model)
    assert only(g, op).attrs["axis"] == -1
    assert g.op_histogram()["Reshape"] == 2


def test_softmax_opset11_on_last_axis_stays_single_node():
    model = make_model([helper.make_node("Softmax", ["x"], ["y"], axis=1)], inputs={"x": (2, 5)},
                       outputs={"y": None}, opset=11)
    g = imported_matches_ort(model)
    assert g.op_histogram() == {"Softmax": 1}


def test_topk_and_initializers_listed_as_inputs():
    """IR-3 style models list initializers among the inputs; they stay weights."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("TopK", ["m", "k"], ["v", "i"], axis=-1)]
    w = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    model = make_model(nodes, inputs={"x": (3, 4)}, outputs={"v": None, "i": None},
                       initializers={"w": w, "k": np.array([2], np.int64)}, opset=11,
                       dtypes={"i": np.int64})
    model.graph.input.extend([helper.make_tensor_value_info("w", 1, [4, 6])])
    g = imported_matches_ort(model)
    assert g.inputs == ["x"] and g.is_constant("w")


def test_opset21_model_imports():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Gelu", ["r"], ["y"])]
    g = imported_matches_ort(make_model(nodes, inputs={"x": (2, 3)}, outputs={"y": None}, opset=21))
    assert g.op_histogram() == {"Gelu": 1, "Relu": 1}


def test_local_functions_are_inlined():
    fn = helper.make_function("custom", "Swish", ["a"], ["b"],
                              [helper.make_node("Sigmoid", ["a"], ["s"]), helper.make_node("Mul", ["a", "s"], ["b"])],
                              [helper.make_opsetid("", 17)])
    graph = helper.make_graph([helper.make_node("Swish", ["x"], ["y"], domain="custom")], "f",
                              [helper.make_tensor_value_info("x", 1, [2, 3])],
                              [helper.make_tensor_value_info("y", 1, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    model.opset_import.append(helper.make_opsetid("custom", 1))
    model.functions.append(fn)
    g = imported_matches_ort(model)
    assert g.op_histogram() == {"Mul": 1, "Sigmoid": 1}


def test_nodes_out_of_order_are_sorted():
    nodes = [helper.make_node("Neg", ["r"], ["y"]), helper.make_node("Relu", ["x"], ["r"])]
    graph = helper.make_graph(nodes, "unsorted", [helper.make_tensor_value_info("x", 1, [2, 3])],
                              [helper.make_tensor_value_info("y", 1, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    g = imported_matches_ort(model)
    assert [n.op_type for n in g.nodes] == ["Relu", "Neg"]
