"""recognize_hardsigmoid / recognize_hardswish: decomposed forms become single ops."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import recognize_hardsigmoid, recognize_hardswish  # noqa: E402


def f32(v):
    return np.array(v, np.float32)


CONSTS = {"three": f32(3), "zero": f32(0), "six": f32(6), "one": f32(1), "sixth": f32(1 / 6),
          "a": f32(0.2), "b": f32(0.5), "bias4": f32([3, 3, 3, 3])}


def model(nodes, shape=(2, 4), outputs=None):
    return make_model(nodes, inputs={"x": shape}, outputs=outputs or {"y": None}, initializers=CONSTS)


def relu6_plus3(out="r"):
    return [helper.make_node("Add", ["x", "three"], ["p"]), helper.make_node("Clip", ["p", "zero", "six"], [out])]


@pytest.mark.parametrize("nodes, alpha, beta", [
    (relu6_plus3() + [helper.make_node("Div", ["r", "six"], ["y"])], 1 / 6, 0.5),
    (relu6_plus3() + [helper.make_node("Mul", ["sixth", "r"], ["y"])], 1 / 6, 0.5),
    ([helper.make_node("Mul", ["x", "a"], ["m"]), helper.make_node("Add", ["b", "m"], ["p"]),
      helper.make_node("Clip", ["p", "zero", "one"], ["y"])], 0.2, 0.5),
    ([helper.make_node("Sub", ["x", "three"], ["p"]), helper.make_node("Clip", ["p", "zero", "six"], ["r"]),
      helper.make_node("Div", ["r", "six"], ["y"])], 1 / 6, -0.5),
])
def test_hardsigmoid_forms(nodes, alpha, beta):
    _, after, changed = check_pass(model(nodes), recognize_hardsigmoid.run, atol=1e-6)
    assert changed and after.op_histogram() == {"HardSigmoid": 1}
    node = after.nodes[0]
    assert node.inputs == ["x"] and node.outputs == ["y"]
    assert node.attrs["alpha"] == pytest.approx(alpha, rel=1e-6) and node.attrs["beta"] == pytest.approx(beta, rel=1e-6)


def test_hardsigmoid_negatives():
    # plain relu6(x + 3): not a unit clamp
    _, _, changed = check_pass(model(relu6_plus3("y")), recognize_hardsigmoid.run)
    assert not changed
    # the clamp is read elsewhere too
    shared = relu6_plus3() + [helper.make_node("Div", ["r", "six"], ["y"]), helper.make_node("Neg", ["r"], ["z"])]
    _, _, changed = check_pass(model(shared, outputs={"y": None, "z": None}), recognize_hardsigmoid.run)
    assert not changed
    # wrong divisor: relu6(x+3)/5 leaves [0, 1.2]
    wrong = relu6_plus3() + [helper.make_node("Div", ["r", "five"], ["y"])]
    m = make_model(wrong, inputs={"x": (2, 4)}, outputs={"y": None}, initializers={**CONSTS, "five": f32(5)})
    _, _, changed = check_pass(m, recognize_hardsigmoid.run)
    assert not changed
    # a per-element offset is not a scalar: not matched
    vec = [helper.make_node("Add", ["x", "bias4"], ["p"]), helper.make_node("Clip", ["p", "zero", "six"], ["r"]),
           helper.make_node("Div", ["r", "six"], ["y"])]
    _, _, changed = check_pass(model(vec), recognize_hardsigmoid.run)
    assert not changed


def test_broadcasting_constant_blocks_the_rewrite():
    """x is [4]; the offset [[3], [3]] broadcasts the result to [2, 4]: not HardSigmoid(x)."""
    nodes = [helper.make_node("Add", ["x", "off"], ["p"]), helper.make_node("Clip", ["p", "zero", "six"], ["r"]),
             helper.make_node("Div", ["r", "six"], ["y"])]
    m = make_model(nodes, inputs={"x": (4,)}, outputs={"y": None},
                   initializers={**CONSTS, "off": np.full((2, 1), 3, np.float32)})
    _, _, changed = check_pass(m, recognize_hardsigmoid.run)
    assert not changed


@pytest.mark.parametrize("form", ["ppocr", "inner_div", "hardsigmoid_op", "mul_sixth"])
def test_hardswish_forms(form):
    if form == "ppocr":  # x * relu6(x + 3) / 6, as PaddlePaddle exports it
        nodes = relu6_plus3() + [helper.make_node("Mul", ["x", "r"], ["m"]), helper.make_node("Div", ["m", "six"], ["y"])]
    elif form == "inner_div":  # x * (relu6(x + 3) / 6)
        nodes = relu6_plus3() + [helper.make_node("Div", ["r", "six"], ["h"]), helper.make_node("Mul", ["h", "x"], ["y"])]
    elif form == "hardsigmoid_op":
        nodes = [helper.make_node("HardSigmoid", ["x"], ["h"], alpha=1 / 6, beta=0.5),
                 helper.make_node("Mul", ["x", "h"], ["y"])]
    else:
        nodes = relu6_plus3() + [helper.make_node("Mul", ["r", "sixth"], ["h"]), helper.make_node("Mul", ["x", "h"], ["y"])]
    _, after, changed = check_pass(model(nodes, shape=(1, 4, 3, 3)), recognize_hardswish.run, atol=1e-6)
    assert changed and after.op_histogram() == {"HardSwish": 1}
    assert after.nodes[0].inputs == ["x"] and after.nodes[0].outputs == ["y"]


def test_hardswish_negatives():
    # PaddlePaddle's hard-sigmoid slope 0.2 is not hard-swish
    paddle = [helper.make_node("HardSigmoid", ["x"], ["h"], alpha=0.2, beta=0.5), helper.make_node("Mul", ["x", "h"], ["y"])]
    _, after, changed = check_pass(model(paddle), recognize_hardswish.run)
    assert not changed and after.op_histogram() == {"HardSigmoid": 1, "Mul": 1}
    # gate of another tensor: z * relu6(x + 3) / 6
    other = relu6_plus3() + [helper.make_node("Mul", ["z", "r"], ["m"]), helper.make_node("Div", ["m", "six"], ["y"])]
    m = make_model(other, inputs={"x": (2, 4), "z": (2, 4)}, outputs={"y": None}, initializers=CONSTS)
    _, _, changed = check_pass(m, recognize_hardswish.run)
    assert not changed
    # the product x * relu6(x + 3) is also an output
    shared = relu6_plus3() + [helper.make_node("Mul", ["x", "r"], ["m"]), helper.make_node("Div", ["m", "six"], ["y"])]
    _, after, changed = check_pass(model(shared, outputs={"y": None, "m": None}), recognize_hardswish.run)
    assert not changed
