"""fold_bias: a per-channel constant Add/Sub after a Conv becomes its bias."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import fold_bias  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)


def conv_add(c, *, op="Add", bias=False, reshape=False, conv_first=True):
    inits = {"w": W, "c": c}
    conv_in = ["x", "w"]
    if bias:
        inits["b"] = RNG.standard_normal(4).astype(np.float32)
        conv_in.append("b")
    nodes = [N("Conv", conv_in, ["y0"])]
    operand = "c"
    if reshape:  # PaddlePaddle: Add(conv, Reshape(b, [1, C, 1, 1]))
        inits["shape"] = np.array([1, 4, 1, 1], np.int64)
        nodes.append(N("Reshape", ["c", "shape"], ["c4"]))
        operand = "c4"
    nodes.append(N(op, ["y0", operand] if conv_first else [operand, "y0"], ["y"]))
    return make_model(nodes, inputs={"x": (1, 3, 6, 6)}, outputs={"y": None}, initializers=inits)


@pytest.mark.parametrize("kw", [
    {"reshape": True}, {"bias": True, "reshape": True}, {"op": "Sub", "reshape": True},
    {"conv_first": False, "reshape": True},
])
def test_per_channel_add_folds(kw):
    c = RNG.standard_normal(4).astype(np.float32)
    _, after, changed = check_pass(conv_add(c, **kw), fold_bias.run, atol=1e-5)
    assert changed and after.op_histogram() == {"Conv": 1}
    assert after.nodes[0].outputs == ["y"] and len(after.nodes[0].inputs) == 3


def test_scalar_add_folds():
    _, after, changed = check_pass(conv_add(np.array(0.25, np.float32)), fold_bias.run, atol=1e-5)
    assert changed and after.op_histogram() == {"Conv": 1}


@pytest.mark.parametrize("kw, c", [
    ({}, RNG.standard_normal((1, 4, 4, 4)).astype(np.float32)),   # varies spatially
    ({"op": "Sub", "conv_first": False}, np.array(1.0, np.float32)),  # c - conv
])
def test_not_a_bias(kw, c):
    _, after, changed = check_pass(conv_add(c, **kw), fold_bias.run, atol=1e-5)
    assert not changed and len(after.nodes) == 2
