"""rewrite_fullyconnected: Gemm and MatMul(+Add) with constant weights become FullyConnected."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import rewrite_fullyconnected  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(0)


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def only_fc(graph):
    assert graph.op_histogram() == {"FullyConnected": 1}, graph.op_histogram()
    fc = graph.nodes[0]
    w = graph.const(fc.inputs[1])
    bias = graph.const(fc.inputs[2]) if len(fc.inputs) > 2 else None
    return fc, w, bias


@pytest.mark.parametrize("trans_b", [0, 1])
@pytest.mark.parametrize("c_shape", [None, (5,), (1, 5), ()])
def test_gemm(trans_b, c_shape):
    b = arr(5, 6) if trans_b else arr(6, 5)
    inits = {"b": b}
    inputs = ["x", "b"]
    if c_shape is not None:
        inits["c"] = arr(*c_shape)
        inputs.append("c")
    node = N("Gemm", inputs, ["y"], alpha=0.5, beta=2.0, transB=trans_b)
    m = make_model([node], inputs={"x": (3, 6)}, outputs={"y": None}, initializers=inits)
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert changed
    fc, w, bias = only_fc(after)
    np.testing.assert_allclose(w, 0.5 * (b if trans_b else b.T), rtol=1e-6)
    assert w.shape == (5, 6) and (bias is None) == (c_shape is None)
    if bias is not None:
        assert bias.shape == (5,)


@pytest.mark.parametrize("x_shape", [(4, 6), (2, 7, 6), (6,)])
@pytest.mark.parametrize("bias_first", [False, True])
def test_matmul_add(x_shape, bias_first):
    w, b = arr(6, 5), arr(5)
    add_in = ["bias", "mm"] if bias_first else ["mm", "bias"]
    m = make_model([N("MatMul", ["x", "w"], ["mm"]), N("Add", add_in, ["y"])], inputs={"x": x_shape},
                   outputs={"y": None}, initializers={"w": w, "bias": b})
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert changed
    fc, fw, fb = only_fc(after)
    np.testing.assert_array_equal(fw, w.T)
    np.testing.assert_array_equal(fb, b)
    assert fc.outputs == ["y"]


def test_matmul_without_add():
    w = arr(6, 5)
    m = make_model([N("MatMul", ["x", "w"], ["y"])], inputs={"x": (2, 3, 6)}, outputs={"y": None},
                   initializers={"w": w})
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert changed
    fc, fw, fb = only_fc(after)
    assert fb is None and len(fc.inputs) == 2


def test_negatives():
    # Gemm with transA
    m = make_model([N("Gemm", ["x", "b"], ["y"], transA=1)], inputs={"x": (6, 3)}, outputs={"y": None},
                   initializers={"b": arr(6, 5)})
    assert not check_pass(m, rewrite_fullyconnected.run)[2]
    # MatMul of two activations (attention scores)
    m = make_model([N("MatMul", ["x", "z"], ["y"])], inputs={"x": (2, 4, 6), "z": (2, 6, 4)}, outputs={"y": None})
    assert not check_pass(m, rewrite_fullyconnected.run)[2]
    # batched constant weight (3-D): not a FullyConnected
    m = make_model([N("MatMul", ["x", "w"], ["y"])], inputs={"x": (2, 4, 6)}, outputs={"y": None},
                   initializers={"w": arr(2, 6, 3)})
    assert not check_pass(m, rewrite_fullyconnected.run)[2]


def test_add_that_is_not_a_bias_stays_separate():
    # the constant varies along the rows: FullyConnected without bias, then the Add
    m = make_model([N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "c"], ["y"])], inputs={"x": (4, 6)},
                   outputs={"y": None}, initializers={"w": arr(6, 5), "c": arr(4, 5)})
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert changed and after.op_histogram() == {"FullyConnected": 1, "Add": 1}
    # the MatMul result is read elsewhere: the Add is not folded either
    m = make_model([N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "c"], ["y"]), N("Neg", ["mm"], ["z"])],
                   inputs={"x": (4, 6)}, outputs={"y": None, "z": None}, initializers={"w": arr(6, 5), "c": arr(5)})
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert after.op_histogram() == {"FullyConnected": 1, "Add": 1, "Neg": 1}
    # the bias would broadcast the result to a bigger shape
    m = make_model([N("MatMul", ["x", "w"], ["mm"]), N("Add", ["mm", "c"], ["y"])], inputs={"x": (6,)},
                   outputs={"y": None}, initializers={"w": arr(6, 5), "c": arr(3, 5)})
    _, after, changed = check_pass(m, rewrite_fullyconnected.run, atol=1e-5)
    assert after.op_histogram() == {"FullyConnected": 1, "Add": 1}
