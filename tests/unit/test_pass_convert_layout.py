"""convert_layout: NCHW -> NHWC without stray transposes, weights in OHWI / [1,H,W,C·m],
axes remapped. Numerics of converted graphs are checked in the TFLite plugin tests
(LiteRT runs them); here the structure is checked against hand-derived expectations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes.convert_layout import convert_layout, count_transposes, unit_moves_only
from edgeq.types import QDType, QuantParams


def _g(inputs, nodes, tensors, outputs, consts=None):
    g = Graph("t")
    for name, shape in tensors.items():
        g.tensors[name] = Tensor(name, np.float32, shape)
    for name, data in (consts or {}).items():
        data = np.asarray(data)
        g.tensors[name] = Tensor(name, data.dtype, data.shape, data)
    g.inputs, g.outputs = list(inputs), list(outputs)
    g.nodes = [Node(f"n{i}", op, ins, outs, attrs) for i, (op, ins, outs, attrs) in enumerate(nodes)]
    return g


def _conv_graph():
    rng = np.random.default_rng(0)
    return _g(
        ["x"],
        [("Conv", ["x", "w1", "b1"], ["c1"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 1}),
         ("Conv", ["c1", "wd", ""], ["c2"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 4}),
         ("Add", ["c2", "bias4"], ["a"], {}),
         ("Concat", ["a", "c1"], ["cat"], {"axis": 1}),
         ("ReduceMean", ["cat", "axes"], ["m"], {"keepdims": 1}),
         ("Softmax", ["m"], ["s"], {"axis": 1}),
         ("Flatten", ["s"], ["f"], {"axis": 1})],
        {"x": (1, 3, 8, 8), "c1": (1, 4, 8, 8), "c2": (1, 8, 8, 8), "a": (1, 8, 8, 8),
         "cat": (1, 12, 8, 8), "m": (1, 12, 1, 1), "s": (1, 12, 1, 1), "f": (1, 12)},
        ["f"],
        {"w1": rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "b1": np.zeros(4, np.float32),
         "wd": rng.normal(size=(8, 1, 3, 3)).astype(np.float32),
         "bias4": rng.normal(size=(8, 1, 1)).astype(np.float32), "axes": np.array([2, 3])})


def test_cnn_has_no_transpose_and_nhwc_shapes():
    src = _conv_graph()
    g = convert_layout(src)
    assert count_transposes(g) == 0
    assert g.tensors["x"].shape == (1, 8, 8, 3)
    assert g.tensors["cat"].shape == (1, 8, 8, 12)
    assert g.tensors["f"].shape == (1, 12)
    assert json.loads(g.metadata["input_layouts"]) == {"x": "NHWC"}
    assert g.metadata["layout"] == "NHWC"
    assert src.tensors["x"].shape == (1, 3, 8, 8)  # the source graph is untouched
    ops = {n.name: n for n in g.nodes}
    assert ops["n3"].attrs["axis"] == 3  # concat on channels
    assert list(g.const(ops["n4"].inputs[1])) == [1, 2]  # mean over H, W
    assert ops["n5"].attrs["axis"] == 3
    assert ops["n6"].op_type == "Reshape"  # flatten of [N,1,1,C] needs no transpose
    assert ops["n0"].attrs["data_layout"] == "NHWC"


def test_filters_ohwi_and_depthwise_1hwc():
    src = _conv_graph()
    g = convert_layout(src)
    ops = {n.name: n for n in g.nodes}
    w1 = g.const(ops["n0"].inputs[1])
    np.testing.assert_array_equal(w1, src.const("w1").transpose(0, 2, 3, 1))
    wd = g.const(ops["n1"].inputs[1])
    assert wd.shape == (1, 3, 3, 8) and ops["n1"].attrs["depthwise"] is True
    np.testing.assert_array_equal(wd[0, :, :, 5], src.const("wd")[5, 0])
    bias = g.const(ops["n2"].inputs[1])  # [C,1,1] broadcast constant -> [1,1,1,C]
    np.testing.assert_array_equal(bias.reshape(-1), src.const("bias4").reshape(-1))
    assert bias.shape == (1, 1, 1, 8)


def test_per_channel_axis_follows_the_channel():
    src = _conv_graph()
    q = QuantParams(np.ones(8, np.float32), np.zeros(8, np.int64), QDType.INT8, 0)
    src.tensors["wd"] = Tensor("wd", np.int8, (8, 1, 3, 3), np.ones((8, 1, 3, 3), np.int8), q)
    g = convert_layout(src)
    wd = g.tensors[[n for n in g.nodes if n.name == "n1"][0].inputs[1]]
    assert wd.quant.axis == 3 and wd.shape == (1, 3, 3, 8)


def test_explicit_transposes_cancel():
    # x.permute(0,2,3,1) of an NCHW conv output is already what NHWC storage holds
    g = _g(["x"],
           [("Conv", ["x", "w", ""], ["c"], {"kernel_shape": [1, 1], "group": 1}),
            ("Transpose", ["c"], ["t"], {"perm": [0, 2, 3, 1]}),
            ("Relu", ["t"], ["y"], {})],
           {"x": (1, 2, 4, 4), "c": (1, 3, 4, 4), "t": (1, 4, 4, 3), "y": (1, 4, 4, 3)},
           ["y"], {"w": np.ones((3, 2, 1, 1), np.float32)})
    out = convert_layout(g)
    assert count_transposes(out) == 0
    assert out.tensors["y"].shape == (1, 4, 4, 3)


def test_4d_output_restored_with_one_transpose():
    g = _g(["x"], [("Conv", ["x", "w", ""], ["y"], {"kernel_shape": [1, 1], "group": 1})],
           {"x": (1, 2, 4, 4), "y": (1, 3, 4, 4)}, ["y"], {"w": np.ones((3, 2, 1, 1), np.float32)})
    out = convert_layout(g)
    assert count_transposes(out) == 1
    assert out.outputs == ["y"] and out.tensors["y"].shape == (1, 3, 4, 4)
    (t,) = [n for n in out.nodes if n.op_type == "Transpose"]
    assert t.outputs == ["y"] and t.attrs["perm"] == [0, 3, 1, 2]


def test_non_image_input_keeps_its_layout():
    g = _g(["x"], [("Softmax", ["x"], ["y"], {"axis": 1})], {"x": (2, 3, 4, 5), "y": (2, 3, 4, 5)}, ["y"])
    out = convert_layout(g)
    assert out.tensors["x"].shape == (2, 3, 4, 5) and count_transposes(out) == 0
    assert out.nodes[0].attrs["axis"] == 1


def test_reshape_that_mixes_channels_gets_a_transpose_back():
    g = _g(["x"],
           [("Conv", ["x", "w", ""], ["c"], {"kernel_shape": [1, 1], "group": 1}),
            ("Reshape", ["c", "shape"], ["r"], {})],
           {"x": (1, 2, 4, 4), "c": (1, 3, 4, 4), "r": (1, 48)}, ["r"],
           {"w": np.ones((3, 2, 1, 1), np.float32), "shape": np.array([1, 48])})
    out = convert_layout(g)
    # flattening a C×H×W tensor depends on the element order: NCHW order is restored
    assert count_transposes(out) == 1
    (t,) = [n for n in out.nodes if n.op_type == "Transpose"]
    assert t.attrs["perm"] == [0, 3, 1, 2]


def test_pad_and_slice_axes_remapped():
    g = _g(["x"],
           [("Conv", ["x", "w", ""], ["c"], {"kernel_shape": [1, 1], "group": 1}),
            ("Pad", ["c", "pads"], ["p"], {"mode": "constant"}),
            ("Slice", ["p", "starts", "ends", "axes"], ["s"], {}),
            ("GlobalAveragePool", ["s"], ["y"], {})],
           {"x": (1, 2, 4, 4), "c": (1, 3, 4, 4), "p": (1, 3, 6, 5), "s": (1, 2, 6, 5),
            "y": (1, 2, 1, 1)}, ["y"],
           {"w": np.ones((3, 2, 1, 1), np.float32), "pads": np.array([0, 0, 1, 0, 0, 0, 1, 1]),
            "starts": np.array([1]), "ends": np.array([3]), "axes": np.array([1])})
    out = convert_layout(g)
    ops = {n.op_type: n for n in out.nodes}
    assert list(out.const(ops["Pad"].inputs[1])) == [0, 1, 0, 0, 0, 1, 1, 0]
    assert list(out.const(ops["Slice"].inputs[3])) == [3]
    assert out.tensors["s"].shape == (1, 6, 5, 2)
    assert count_transposes(out) == 1  # only the 4-D graph output goes back to NCHW


@pytest.mark.parametrize("shape,q,expected", [((1, 8, 1, 1), (0, 2, 3, 1), True),
                                              ((1, 8, 4, 4), (0, 2, 3, 1), False),
                                              ((1, 1, 4, 4), (0, 2, 3, 1), True)])
def test_unit_moves_only(shape, q, expected):
    assert unit_moves_only(shape, q) is expected


def test_conv1d_chain_through_squeeze_unsqueeze_has_no_transpose():
    # Conv1d as the quantizer lowers it: Unsqueeze -> Conv2d (H = 1) -> Squeeze, twice
    g = _g(["x"],
           [("Unsqueeze", ["x", "ax2"], ["u1"], {}),
            ("Conv", ["u1", "w1", ""], ["c1"], {"kernel_shape": [1, 3], "pads": [0, 1, 0, 1], "group": 1}),
            ("Squeeze", ["c1", "ax2"], ["s1"], {}),
            ("Relu", ["s1"], ["r"], {}),
            ("Unsqueeze", ["r", "ax2"], ["u2"], {}),
            ("Conv", ["u2", "w2", ""], ["c2"], {"kernel_shape": [1, 3], "pads": [0, 1, 0, 1], "group": 1}),
            ("Squeeze", ["c2", "ax2"], ["y"], {})],
           {"x": (2, 4, 16), "u1": (2, 4, 1, 16), "c1": (2, 6, 1, 16), "s1": (2, 6, 16),
            "r": (2, 6, 16), "u2": (2, 6, 1, 16), "c2": (2, 5, 1, 16), "y": (2, 5, 16)},
           ["y"], {"ax2": np.array([2]), "w1": np.ones((6, 4, 1, 3), np.float32),
                   "w2": np.ones((5, 6, 1, 3), np.float32)})
    out = convert_layout(g)
    # the 3-D input becomes NWC; only the 3-D graph output goes back to NCW
    assert json.loads(out.metadata["input_layouts"]) == {"x": "NWC"}
    assert count_transposes(out) == 1
    assert out.tensors["r"].shape == (2, 16, 6)  # the ReLU runs channels-last
    assert {n.op_type for n in out.nodes} == {"Reshape", "Conv", "Relu", "Transpose"}


def test_transposes_are_lazy_and_materialised_once():
    # a transposed tensor read by two MatMuls: one TRANSPOSE, shared
    g = _g(["a", "b"],
           [("Transpose", ["a"], ["t"], {"perm": [0, 2, 1]}),
            ("MatMul", ["t", "b"], ["m1"], {}),
            ("MatMul", ["t", "b"], ["m2"], {}),
            ("Add", ["m1", "m2"], ["y"], {})],
           {"a": (2, 4, 3), "b": (2, 4, 5), "t": (2, 3, 4), "m1": (2, 3, 5), "m2": (2, 3, 5),
            "y": (2, 3, 5)}, ["y"])
    out = convert_layout(g)
    assert count_transposes(out) == 1
    (t,) = [n for n in out.nodes if n.op_type == "Transpose"]
    assert t.attrs["perm"] == [0, 2, 1]
    assert sum(1 for n in out.nodes if t.outputs[0] in n.inputs) == 2
