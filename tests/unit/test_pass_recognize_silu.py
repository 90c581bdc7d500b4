"""recognize_silu: x * Sigmoid(x) becomes Silu(x)."""

import sys
from pathlib import Path

import numpy as np
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import recognize_silu  # noqa: E402


def test_both_operand_orders():
    for order in (["x", "s"], ["s", "x"]):
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", order, ["y"])]
        model = make_model(nodes, inputs={"x": (2, 8)}, outputs={"y": None})
        _, after, changed = check_pass(model, recognize_silu.run)
        assert changed and after.op_histogram() == {"Silu": 1}
        assert after.nodes[0].inputs == ["x"] and after.nodes[0].outputs == ["y"]


def test_chained_silus_both_rewritten():
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["s2"]), helper.make_node("Mul", ["s2", "a"], ["y"])]
    _, after, changed = check_pass(make_model(nodes, inputs={"x": (3,)}, outputs={"y": None}), recognize_silu.run)
    assert changed and after.op_histogram() == {"Silu": 2}


def test_negatives():
    # sigmoid of another tensor (a gate, as in GLU): not SiLU
    nodes = [helper.make_node("Sigmoid", ["z"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])]
    m = make_model(nodes, inputs={"x": (4,), "z": (4,)}, outputs={"y": None})
    assert not check_pass(m, recognize_silu.run)[2]
    # the sigmoid is read elsewhere
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"]),
             helper.make_node("Neg", ["s"], ["z"])]
    m = make_model(nodes, inputs={"x": (4,)}, outputs={"y": None, "z": None})
    assert not check_pass(m, recognize_silu.run)[2]
    # a constant factor 2 * x * sigmoid(x) is not SiLU
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["m"]),
             helper.make_node("Mul", ["m", "two"], ["y"])]
    m = make_model(nodes, inputs={"x": (4,)}, outputs={"y": None}, initializers={"two": np.array(2, np.float32)})
    _, after, changed = check_pass(m, recognize_silu.run)
    assert changed and after.op_histogram() == {"Silu": 1, "Mul": 1}  # the inner product is SiLU
