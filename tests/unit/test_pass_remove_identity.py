"""remove_identity: Identity and inference Dropout disappear; graph outputs keep names."""

import sys
from pathlib import Path

import numpy as np
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import remove_identity  # noqa: E402


def test_identity_and_dropout_in_the_middle_and_at_the_output():
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Identity", ["a"], ["b"]),
             helper.make_node("Dropout", ["b", "ratio"], ["c", "mask"]),
             helper.make_node("Cast", ["mask"], ["maskf"], to=1),
             helper.make_node("Mul", ["c", "maskf"], ["d"]),
             helper.make_node("Identity", ["d"], ["y"])]
    model = make_model(nodes, inputs={"x": (2, 3)}, outputs={"y": (2, 3)},
                       initializers={"ratio": np.array(0.3, np.float32)}, opset=13)
    before, after, changed = check_pass(model, remove_identity.run)
    assert changed
    assert "Identity" in before.op_histogram() and "Dropout" in before.op_histogram()
    assert after.op_histogram() == {"Relu": 1, "Cast": 1, "Mul": 1}
    assert after.outputs == ["y"] and after.producers()["y"].op_type == "Mul"
    # inference Dropout keeps everything: its mask is now an all-true constant
    np.testing.assert_array_equal(after.const("mask"), np.ones((2, 3), bool))
    assert not remove_identity.run(after)


def test_identity_between_graph_input_and_output_is_kept():
    model = make_model([helper.make_node("Identity", ["x"], ["y"])], inputs={"x": (2,)}, outputs={"y": (2,)})
    _, after, changed = check_pass(model, remove_identity.run)
    assert not changed and after.op_histogram() == {"Identity": 1}


def test_identity_of_an_output_that_is_also_read_inside():
    """a is a graph output and feeds Identity -> y (another output): both names stay."""
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Identity", ["a"], ["y"]),
             helper.make_node("Neg", ["a"], ["z"])]
    model = make_model(nodes, inputs={"x": (2,)}, outputs={"a": (2,), "y": (2,), "z": (2,)})
    _, after, changed = check_pass(model, remove_identity.run)
    assert not changed and after.outputs == ["a", "y", "z"]


def test_training_mode_dropout_is_kept():
    node = helper.make_node("Dropout", ["x", "ratio", "train"], ["y"], seed=1)
    model = make_model([node], inputs={"x": (4,)}, outputs={"y": (4,)},
                       initializers={"ratio": np.array(0.0, np.float32), "train": np.array(True)})
    _, after, changed = check_pass(model, remove_identity.run)
    assert not changed and after.op_histogram() == {"Dropout": 1}
