"""fuse_activation: Relu / Relu6 / Clip after Conv or FullyConnected become act_min/act_max."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import fuse_activation, rewrite_fullyconnected  # noqa: E402

RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)


def conv_then(act_nodes, outputs=None, inits=None):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1])] + act_nodes
    return make_model(nodes, inputs={"x": (1, 3, 5, 5)}, outputs=outputs or {"y": None},
                      initializers={"w": W, **(inits or {})})


def f32(v):
    return np.array(v, np.float32)


@pytest.mark.parametrize("act, inits, bounds", [
    (helper.make_node("Relu", ["c"], ["y"]), {}, (0.0, math.inf)),
    (helper.make_node("Clip", ["c", "lo", "hi"], ["y"]), {"lo": f32(0), "hi": f32(6)}, (0.0, 6.0)),
    (helper.make_node("Clip", ["c", "lo"], ["y"]), {"lo": f32(-1)}, (-1.0, math.inf)),
    (helper.make_node("Clip", ["c", "", "hi"], ["y"]), {"hi": f32(0.5)}, (-math.inf, 0.5)),
])
def test_fuses_into_conv(act, inits, bounds):
    _, after, changed = check_pass(conv_then([act], inits=inits), fuse_activation.run)
    assert changed and after.op_histogram() == {"Conv": 1}
    conv = after.nodes[0]
    assert (conv.attrs["act_min"], conv.attrs["act_max"]) == bounds and conv.outputs == ["y"]


def test_two_clamps_intersect():
    acts = [helper.make_node("Clip", ["c", "lo", "hi"], ["r"]), helper.make_node("Relu", ["r"], ["y"])]
    _, after, changed = check_pass(conv_then(acts, inits={"lo": f32(-2), "hi": f32(6)}), fuse_activation.run)
    assert changed and after.op_histogram() == {"Conv": 1}
    assert (after.nodes[0].attrs["act_min"], after.nodes[0].attrs["act_max"]) == (0.0, 6.0)


def test_shared_or_output_conv_results_are_not_fused():
    shared = conv_then([helper.make_node("Relu", ["c"], ["y"]), helper.make_node("Neg", ["c"], ["z"])],
                       outputs={"y": None, "z": None})
    _, after, changed = check_pass(shared, fuse_activation.run)
    assert not changed and after.op_histogram()["Relu"] == 1
    as_output = conv_then([helper.make_node("Relu", ["c"], ["y"])], outputs={"y": None, "c": None})
    _, after, changed = check_pass(as_output, fuse_activation.run)
    assert not changed


def test_relu_after_other_ops_and_variable_clip_bounds_stay():
    acts = [helper.make_node("Add", ["c", "c"], ["a"]), helper.make_node("Relu", ["a"], ["y"])]
    _, after, changed = check_pass(conv_then(acts), fuse_activation.run)
    assert not changed
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c", "lo"], ["y"])]
    model = make_model(nodes, inputs={"x": (1, 3, 5, 5), "lo": ()}, outputs={"y": None}, initializers={"w": W})
    _, after, changed = check_pass(model, fuse_activation.run)
    assert not changed


def test_fuses_into_fully_connected():
    w = RNG.standard_normal((6, 4)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Clip", ["m", "lo", "hi"], ["y"])]
    model = make_model(nodes, inputs={"x": (2, 6)}, outputs={"y": None},
                       initializers={"w": w, "lo": f32(0), "hi": f32(6)})

    def both(g):
        return rewrite_fullyconnected.run(g) | fuse_activation.run(g)

    _, after, changed = check_pass(model, both)
    assert changed and after.op_histogram() == {"FullyConnected": 1}
    assert after.nodes[0].attrs == {"act_min": 0.0, "act_max": 6.0}
