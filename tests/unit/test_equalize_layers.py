"""equalize_layers (cross-layer equalization): the float function is preserved (onnxruntime
on the original ONNX model vs the rewritten IR), per-channel ranges end up equal, ReLU6
is either kept exact or replaced by ReLU, and everything else is left alone."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, random_feeds, run_ir  # noqa: E402

from edgeq.errors import UsageError  # noqa: E402
from edgeq.ir.onnx_import import import_onnx  # noqa: E402
from edgeq.ir.passes import equalize_layers  # noqa: E402
from edgeq.ir.passes.equalize_layers import equalize, input_ranges, output_ranges  # noqa: E402
from edgeq.ir.pipeline import canonicalize  # noqa: E402

RNG = np.random.default_rng(0)


def f32(a):
    return np.asarray(a, np.float32)


def badly_scaled(shape, axis=0):
    """Random weights whose channels along ``axis`` span four orders of magnitude."""
    w = RNG.standard_normal(shape)
    s = np.logspace(-2, 2, shape[axis])
    RNG.shuffle(s)
    return f32(w * s.reshape([-1 if i == axis else 1 for i in range(len(shape))]))


def relu6(x, y):
    return helper.make_node("Clip", [x, "zero", "six"], [y])


CLIP_INITS = {"zero": f32(0), "six": f32(6)}


def block(act="Relu", bias=1.0):
    """expand 1x1 (act) -> depthwise 3x3 (act) -> project 1x1, like a MobileNetV2 block."""
    def act_node(x, y):
        return helper.make_node("Relu", [x], [y]) if act == "Relu" else relu6(x, y)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"]), act_node("c1", "a1"),
             helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
             act_node("c2", "a2"),
             helper.make_node("Conv", ["a2", "w3", "b3"], ["y"])]
    inits = {"w1": badly_scaled((8, 4, 1, 1)), "b1": f32(bias * RNG.standard_normal(8)),
             "w2": badly_scaled((8, 1, 3, 3)), "b2": f32(bias * RNG.standard_normal(8)),
             "w3": f32(RNG.standard_normal((5, 8, 1, 1))), "b3": f32(RNG.standard_normal(5)),
             **CLIP_INITS}
    return make_model(nodes, inputs={"x": (2, 4, 6, 6)}, outputs={"y": None}, initializers=inits)


def canonical(model):
    return canonicalize(import_onnx(model))


def assert_same_function(model, graph, feeds=None, rtol=2e-4, atol=2e-4):
    feeds = feeds or random_feeds(graph, 1)
    expected = ort_run(model, feeds)
    got = run_ir(graph, feeds)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=rtol, atol=atol * np.abs(value).max(),
                                   err_msg=name)


def node_weights(graph, name):
    return graph.const(graph.node_by_name(name).inputs[1])


def test_relu_chain_is_equalized_and_exact():
    model = block("Relu")
    g = canonical(model)
    names = [n.name for n in g.nodes]
    before = {n: node_weights(g, n).copy() for n in names}
    rep = equalize(g)
    assert [(p.first, p.second) for p in rep.pairs] == [(names[0], names[1]), (names[1], names[2])]
    assert rep.relu6_replaced == [] and rep.last_change < 1e-4 and rep.iterations > 1
    assert_same_function(model, g)
    # the chain converged: expand rows, depthwise kernels and project columns share a range
    w1, w2, w3 = (node_weights(g, n) for n in names)
    n2 = g.node_by_name(names[1])
    n3 = g.node_by_name(names[2])
    np.testing.assert_allclose(output_ranges(w1), input_ranges(w2, n2), rtol=1e-3)
    np.testing.assert_allclose(output_ranges(w2), input_ranges(w3, n3), rtol=1e-3)
    # it changed something, and the geometric mean of each channel's three ranges is kept
    r_before = output_ranges(before[names[0]]) * output_ranges(before[names[1]]) * \
        input_ranges(before[names[2]], n3)
    r_after = output_ranges(w1) * output_ranges(w2) * input_ranges(w3, n3)
    np.testing.assert_allclose(r_after, r_before, rtol=1e-3)
    spread = lambda r: r.max() / r.min()  # noqa: E731
    assert spread(output_ranges(w1)) < spread(output_ranges(before[names[0]])) / 10


def test_constants_of_a_copied_graph_are_not_touched():
    g = canonical(block("Relu"))
    originals = {t.name: t.data.copy() for t in g.constants()}
    copy = g.copy()
    assert equalize_layers.run(copy)
    for name, value in originals.items():
        np.testing.assert_array_equal(g.const(name), value)


def test_relu6_keep_leaves_the_graph_alone():
    g = canonical(block("Relu6"))
    weights = {t.name: t.data for t in g.constants()}
    rep = equalize(g, relu6="keep")
    assert not rep.changed and rep.pairs == []
    assert all(g.const(k) is v for k, v in weights.items())
    assert all(n.attrs.get("act_max") in (6.0, None) for n in g.nodes)


def test_relu6_replace_equalizes_the_relu_version_of_the_model():
    """ReLU6 → ReLU on the equalized layers: the result computes the ReLU model exactly,
    and differs from the ReLU6 model only where a pre-activation exceeds 6."""
    model6 = block("Relu6", bias=0.01)
    g = canonical(model6)
    rep = equalize(g, relu6="replace")
    first, second = g.nodes[0].name, g.nodes[1].name
    assert sorted(rep.relu6_replaced) == sorted([first, second])
    assert all(g.node_by_name(n).attrs["act_max"] == math.inf for n in rep.relu6_replaced)
    # the same weights with Relu instead of Clip(0, 6)
    model_relu = make_model(
        [helper.make_node("Relu", [n.input[0]], n.output) if n.op_type == "Clip" else n
         for n in model6.graph.node],
        inputs={"x": (2, 4, 6, 6)}, outputs={"y": None},
        initializers={i.name: __import__("onnx").numpy_helper.to_array(i) for i in model6.graph.initializer})
    assert_same_function(model_relu, g)
    # inputs small enough that no pre-activation reaches 6: then all three agree
    small = {"x": f32(RNG.uniform(-1e-3, 1e-3, (2, 4, 6, 6)))}
    probe = canonical(model6)
    probe.outputs = [probe.nodes[0].outputs[0], probe.nodes[1].outputs[0]]
    assert all(v.max() < 6 for v in run_ir(probe, small).values())
    assert_same_function(model6, g, feeds=small)
    # and large ones do reach the clamp, where the two models differ
    large = {"x": f32(RNG.uniform(-30, 30, (2, 4, 6, 6)))}
    assert not np.allclose(run_ir(g, large)["y"], ort_run(model6, large)["y"], rtol=1e-3, atol=1e-3)


def test_fully_connected_through_pooling_and_flatten():
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["a1"]),
             helper.make_node("MaxPool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["p1"], ["p2"]),
             helper.make_node("Flatten", ["p2"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)]
    inits = {"w1": badly_scaled((6, 3, 3, 3)), "b1": f32(RNG.standard_normal(6)),
             "w2": f32(RNG.standard_normal((4, 6))), "b2": f32(RNG.standard_normal(4))}
    model = make_model(nodes, inputs={"x": (1, 3, 8, 8)}, outputs={"y": None}, initializers=inits)
    g = canonical(model)
    rep = equalize(g)
    assert len(rep.pairs) == 1 and len(rep.pairs[0].path) == 3
    fc = g.node_by_name(rep.pairs[0].second)
    assert fc.op_type == "FullyConnected"
    np.testing.assert_allclose(output_ranges(node_weights(g, rep.pairs[0].first)),
                               input_ranges(node_weights(g, fc.name), fc), rtol=1e-5)
    assert_same_function(model, g)


@pytest.mark.parametrize("case", ["shared_tensor", "graph_output", "clip_bounds", "shared_weight",
                                  "flatten_mixes_space", "non_homogeneous"])
def test_pairs_that_must_not_be_equalized(case):
    w1, w2 = badly_scaled((4, 3, 1, 1)), f32(RNG.standard_normal((4, 4, 1, 1)))
    inits = {"w1": w1, "w2": w2, "lo": f32(-1), "hi": f32(1)}
    outputs = {"y": None}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"]), helper.make_node("Relu", ["c1"], ["a1"]),
             helper.make_node("Conv", ["a1", "w2"], ["y"])]
    if case == "shared_tensor":
        nodes.append(helper.make_node("Neg", ["a1"], ["z"]))
        outputs["z"] = None
    elif case == "graph_output":
        outputs["a1"] = None
    elif case == "clip_bounds":
        nodes[1] = helper.make_node("Clip", ["c1", "lo", "hi"], ["a1"])
    elif case == "shared_weight":
        inits["w2"] = f32(RNG.standard_normal((4, 4, 1, 1)))
        inits["w1"] = f32(RNG.standard_normal((4, 4, 1, 1)))
        nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"]), helper.make_node("Relu", ["c1"], ["a1"]),
                 helper.make_node("Conv", ["a1", "w1"], ["y"])]
    elif case == "flatten_mixes_space":
        inits["w2"] = f32(RNG.standard_normal((4, 4 * 2 * 2)))
        nodes[2:] = [helper.make_node("Flatten", ["a1"], ["f"]),
                     helper.make_node("Gemm", ["f", "w2"], ["y"], transB=1)]
    elif case == "non_homogeneous":
        nodes[1] = helper.make_node("Sigmoid", ["c1"], ["a1"])
    channels = 4 if case == "shared_weight" else 3
    model = make_model(nodes, inputs={"x": (1, channels, 2, 2)}, outputs=outputs, initializers=inits)
    g = canonical(model)
    rep = equalize(g)
    assert rep.pairs == [] and not rep.changed
    assert_same_function(model, g)


def test_dead_channel_does_not_blow_up():
    w1 = badly_scaled((4, 3, 1, 1))
    w2 = f32(RNG.standard_normal((2, 4, 1, 1)))
    w2[:, 1] = 0.0  # channel 1 is never read
    w1[2] = 0.0     # channel 2 is always 0
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"]), helper.make_node("Relu", ["c1"], ["a1"]),
             helper.make_node("Conv", ["a1", "w2"], ["y"])]
    model = make_model(nodes, inputs={"x": (1, 3, 4, 4)}, outputs={"y": None},
                       initializers={"w1": w1, "w2": w2})
    g = canonical(model)
    assert equalize(g).changed
    for t in g.constants():
        assert np.all(np.isfinite(t.data))
    assert_same_function(model, g)


def test_bad_relu6_mode_is_a_usage_error():
    with pytest.raises(UsageError, match="relu6 must be 'replace' or 'keep'"):
        equalize(canonical(block("Relu")), relu6="drop")
