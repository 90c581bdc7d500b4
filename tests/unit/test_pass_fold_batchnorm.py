"""fold_batchnorm: Conv -> BatchNormalization becomes one Conv computing the same."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import fold_batchnorm  # noqa: E402


def bn_params(rng, c):
    return {"scale": rng.uniform(0.5, 2, c).astype(np.float32), "beta": rng.standard_normal(c).astype(np.float32),
            "mean": rng.standard_normal(c).astype(np.float32), "var": rng.uniform(0.1, 3, c).astype(np.float32)}


def conv_bn(group=1, bias=True, extra=None, opset=17):
    rng = np.random.default_rng(group)
    cin, cout = 4, 8 if group == 1 else 4
    inits = {"w": rng.standard_normal((cout, cin // group, 3, 3)).astype(np.float32), **bn_params(rng, cout)}
    conv_in = ["x", "w"]
    if bias:
        inits["b"] = rng.standard_normal(cout).astype(np.float32)
        conv_in.append("b")
    nodes = [helper.make_node("Conv", conv_in, ["c"], pads=[1, 1, 1, 1], group=group),
             helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["y"], epsilon=1e-3)]
    outputs = {"y": None}
    if extra:
        nodes.append(helper.make_node("Neg", ["c"], ["side"]))
        outputs["side"] = None
    return make_model(nodes, inputs={"x": (1, cin, 6, 6)}, outputs=outputs, initializers=inits, opset=opset)


@pytest.mark.parametrize("group, bias", [(1, True), (1, False), (4, True)])
def test_folds_into_conv(group, bias):
    before, after, changed = check_pass(conv_bn(group, bias), fold_batchnorm.run, atol=1e-5)
    assert changed and "BatchNormalization" in before.op_histogram()
    assert after.op_histogram() == {"Conv": 1}
    conv = after.nodes[0]
    assert conv.outputs == ["y"] and len(conv.inputs) == 3 and after.is_constant(conv.inputs[2])


@pytest.mark.parametrize("group", [1, 2])
def test_folds_into_conv_transpose(group):
    rng = np.random.default_rng(3)
    cin, cout = 4, 6
    inits = {"w": rng.standard_normal((cin, cout // group, 2, 2)).astype(np.float32),
             "b": rng.standard_normal(cout).astype(np.float32), **bn_params(rng, cout)}
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["c"], strides=[2, 2], group=group),
             helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["y"])]
    model = make_model(nodes, inputs={"x": (1, cin, 3, 3)}, outputs={"y": None}, initializers=inits)
    _, after, changed = check_pass(model, fold_batchnorm.run, atol=1e-5)
    assert changed and after.op_histogram() == {"ConvTranspose": 1}


def test_opset11_bn_folds():
    _, after, changed = check_pass(conv_bn(opset=11), fold_batchnorm.run, atol=1e-5)
    assert changed and after.op_histogram() == {"Conv": 1}


def test_conv_output_read_elsewhere_is_not_folded():
    _, after, changed = check_pass(conv_bn(extra=True), fold_batchnorm.run)
    assert not changed and after.op_histogram()["BatchNormalization"] == 1


def test_bn_without_conv_stays():
    rng = np.random.default_rng(0)
    node = helper.make_node("BatchNormalization", ["x", "scale", "beta", "mean", "var"], ["y"])
    model = make_model([node], inputs={"x": (1, 3, 2, 2)}, outputs={"y": None}, initializers=bn_params(rng, 3))
    _, after, changed = check_pass(model, fold_batchnorm.run)
    assert not changed and after.op_histogram() == {"BatchNormalization": 1}


def test_conv_with_fused_clamp_is_not_folded():
    from edgeq.ir.onnx_import import import_onnx

    g = import_onnx(conv_bn())
    g.producers()["c"].attrs.update(act_min=0.0, act_max=6.0)
    assert not fold_batchnorm.run(g)
