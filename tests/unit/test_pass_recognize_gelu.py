"""recognize_gelu: erf and tanh decompositions become Gelu(approximate=none|tanh)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import recognize_gelu  # noqa: E402

C = {"half": 0.5, "one": 1.0, "sqrt2": math.sqrt(2), "inv_sqrt2": 1 / math.sqrt(2), "three": 3.0,
     "k": math.sqrt(2 / math.pi), "c": 0.044715, "kc": 0.7978845608, "wrong": 0.6}
CONSTS = {k: np.array(v, np.float32) for k, v in C.items()}
N = helper.make_node


def model(nodes, outputs=None):
    return make_model(nodes, inputs={"x": (2, 3, 16)}, outputs=outputs or {"y": None}, initializers=CONSTS)


def erf_tail(arg_nodes, order):
    """1 + erf(arg) then 0.5 * x * (...) in one of the orders exporters use."""
    nodes = arg_nodes + [N("Erf", ["arg"], ["e"]), N("Add", ["e", "one"], ["p"])]
    if order == "bert":  # x * 0.5 * (1 + erf)
        nodes += [N("Mul", ["x", "half"], ["xh"]), N("Mul", ["xh", "p"], ["y"])]
    elif order == "torch":  # (x * (1 + erf)) * 0.5
        nodes += [N("Mul", ["x", "p"], ["xp"]), N("Mul", ["xp", "half"], ["y"])]
    else:  # x * ((1 + erf) * 0.5)
        nodes += [N("Mul", ["p", "half"], ["ph"]), N("Mul", ["ph", "x"], ["y"])]
    return nodes


@pytest.mark.parametrize("order", ["bert", "torch", "inner"])
@pytest.mark.parametrize("arg", ["div", "mul"])
def test_erf_forms(order, arg):
    arg_nodes = [N("Div", ["x", "sqrt2"], ["arg"])] if arg == "div" else [N("Mul", ["inv_sqrt2", "x"], ["arg"])]
    _, after, changed = check_pass(model(erf_tail(arg_nodes, order)), recognize_gelu.run, atol=1e-6)
    assert changed and after.op_histogram() == {"Gelu": 1}
    node = after.nodes[0]
    assert node.attrs == {"approximate": "none"} and node.inputs == ["x"] and node.outputs == ["y"]


def tanh_model(cube):
    if cube == "pow":
        nodes = [N("Pow", ["x", "three"], ["x3"])]
    else:
        nodes = [N("Mul", ["x", "x"], ["x2"]), N("Mul", ["x2", "x"], ["x3"])]
    nodes += [N("Mul", ["x3", "c"], ["cx3"]), N("Add", ["x", "cx3"], ["inner"]), N("Mul", ["inner", "k"], ["arg"]),
              N("Tanh", ["arg"], ["t"]), N("Add", ["one", "t"], ["p"]), N("Mul", ["half", "x"], ["xh"]),
              N("Mul", ["xh", "p"], ["y"])]
    return model(nodes)


@pytest.mark.parametrize("cube", ["pow", "mul"])
def test_tanh_forms(cube):
    _, after, changed = check_pass(tanh_model(cube), recognize_gelu.run, atol=1e-6)
    assert changed and after.op_histogram() == {"Gelu": 1}
    assert after.nodes[0].attrs == {"approximate": "tanh"}


def test_gelu_fast_form():
    """0.5 * x * (1 + tanh(x * 0.79788 * (1 + 0.044715 * x * x)))."""
    nodes = [N("Mul", ["x", "x"], ["x2"]), N("Mul", ["c", "x2"], ["cx2"]), N("Add", ["one", "cx2"], ["q"]),
             N("Mul", ["x", "kc"], ["xk"]), N("Mul", ["xk", "q"], ["arg"]), N("Tanh", ["arg"], ["t"]),
             N("Add", ["t", "one"], ["p"]), N("Mul", ["x", "p"], ["xp"]), N("Mul", ["xp", "half"], ["y"])]
    _, after, changed = check_pass(model(nodes), recognize_gelu.run, atol=1e-6)
    assert changed and after.op_histogram() == {"Gelu": 1} and after.nodes[0].attrs["approximate"] == "tanh"


def test_onnx_gelu_op_gets_explicit_mode():
    m = make_model([N("Gelu", ["x"], ["y"])], inputs={"x": (4,)}, outputs={"y": None}, opset=20)
    _, after, changed = check_pass(m, recognize_gelu.run)
    assert changed and after.nodes[0].attrs == {"approximate": "none"}
    assert not recognize_gelu.run(after)


def test_negatives():
    # 0.6 instead of 0.5
    nodes = erf_tail([N("Div", ["x", "sqrt2"], ["arg"])], "bert")
    nodes[-2] = N("Mul", ["x", "wrong"], ["xh"])
    assert not check_pass(model(nodes), recognize_gelu.run)[2]
    # erf argument of another scale: x / 3
    nodes = erf_tail([N("Div", ["x", "three"], ["arg"])], "torch")
    assert not check_pass(model(nodes), recognize_gelu.run)[2]
    # the erf is read elsewhere
    nodes = erf_tail([N("Div", ["x", "sqrt2"], ["arg"])], "torch")
    _, after, changed = check_pass(model(nodes, outputs={"y": None, "e": None}), recognize_gelu.run)
    assert not changed and "Erf" in after.op_histogram()
