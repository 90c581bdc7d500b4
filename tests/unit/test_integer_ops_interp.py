"""run_quantized: the I/O contract (float boundary, integer I/O, intermediates) and errors."""

import numpy as np
import pytest

from _qgraph import qp
from edgeq.errors import ShapeError, UnsupportedOpError
from edgeq.interp.int_interp import run_quantized
from edgeq.ir.graph import Graph, Node, Tensor

QX = qp(0.05, -3)
QY = qp(0.1, 5)
W = np.array([[[[2]], [[-1]]]], np.int8)  # 1x2x1x1 conv: y = 2*x0 - x1
QW = qp([0.25], 0, axis=0)


def _conv_graph(float_io: bool) -> Graph:
    g = Graph("t")
    x_int = "xq" if float_io else "x"
    y_int = "yq" if float_io else "y"
    g.tensors[x_int] = Tensor(x_int, np.int8, (1, 2, 2, 2), quant=QX)
    g.tensors["w"] = Tensor("w", np.int8, W.shape, W, QW)
    g.tensors[y_int] = Tensor(y_int, np.int8, (1, 1, 2, 2), quant=QY)
    if float_io:
        g.tensors["x"] = Tensor("x", np.float32, (1, 2, 2, 2))
        g.tensors["y"] = Tensor("y", np.float32, (1, 1, 2, 2))
        g.nodes.append(Node("q", "Quantize", ["x"], ["xq"]))
    g.nodes.append(Node("conv", "Conv", [x_int, "w"], [y_int], {"kernel_shape": [1, 1], "act_min": 0.0}))
    if float_io:
        g.nodes.append(Node("dq", "Dequantize", ["yq"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    return g


X = np.array([0.5, -0.2, 1.0, 0.3, 0.1, 0.4, -1.0, 0.05], np.float32).reshape(1, 2, 2, 2)


def _expected_int():
    xq = QX.quantize(X).astype(np.int64) - (-3)
    acc = 2 * xq[:, 0] - xq[:, 1]
    # multiplier 0.05f * 0.25 / 0.1f = 1/8 exactly: M = 2^30, shift -2. Double rounding:
    # SRDHM halves with ties up, RoundingDivideByPOT quarters with ties away from zero
    # (acc = 11 gives 6 then 2, where a single rounding of 11/8 would give 1)
    h = np.floor(acc / 2 + 0.5)
    y = np.floor(np.abs(h) / 4 + 0.5) * np.sign(h) + 5
    return np.maximum(y, 5).astype(np.int8).reshape(1, 1, 2, 2)  # ReLU clamps at the zero point


def test_float_io_graph_quantizes_and_dequantizes_at_its_boundary():
    g = _conv_graph(float_io=True)
    y = run_quantized(g, {"x": X})["y"]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, (_expected_int().astype(np.float32) - 5) * np.float32(0.1))
    # and it approximates the float computation within one output step
    ref = np.maximum(2 * 0.25 * X[:, :1] - 0.25 * X[:, 1:], 0)
    assert np.max(np.abs(y - ref)) <= 0.1


def test_integer_io_skips_the_boundary_nodes():
    g = _conv_graph(float_io=True)
    xq = QX.quantize(X)
    y = run_quantized(g, {"x": xq}, integer_io=True)["y"]
    assert y.dtype == np.int8
    np.testing.assert_array_equal(y, _expected_int())


def test_integer_io_graph_takes_floats_by_default_and_integers_on_request():
    g = _conv_graph(float_io=False)
    y = run_quantized(g, {"x": X})["y"]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, (_expected_int().astype(np.float32) - 5) * np.float32(0.1))
    yi = run_quantized(g, {"x": QX.quantize(X)}, integer_io=True)["y"]
    np.testing.assert_array_equal(yi, _expected_int())


def test_outputs_may_name_intermediates_returned_as_stored():
    g = _conv_graph(float_io=True)
    out = run_quantized(g, {"x": X}, outputs=["xq", "yq", "y"])
    assert out["xq"].dtype == np.int8 and out["yq"].dtype == np.int8
    np.testing.assert_array_equal(out["xq"], QX.quantize(X))
    np.testing.assert_array_equal(out["yq"], _expected_int())
    assert out["y"].dtype == np.float32


def test_feed_errors_name_the_input():
    g = _conv_graph(float_io=True)
    with pytest.raises(ShapeError, match="missing input 'x'"):
        run_quantized(g, {})
    with pytest.raises(ShapeError, match="input 'x'.*shape"):
        run_quantized(g, {"x": np.zeros((1, 2, 3, 3), np.float32)})
    with pytest.raises(ShapeError, match="unknown input"):
        run_quantized(g, {"x": X, "z": X})


def test_unsupported_op_names_node_and_op():
    g = _conv_graph(float_io=True)
    g.nodes[1].op_type = "Erf"
    with pytest.raises(UnsupportedOpError, match="node 'conv'.*'Erf'.*integer") as info:
        run_quantized(g, {"x": X})
    assert info.value.nodes == ["conv"] and info.value.op_type == "Erf"


def test_dtype_errors_name_the_dtypes():
    g = _conv_graph(float_io=False)
    g.tensors["x"].dtype = np.dtype(np.float32)
    g.tensors["x"].quant = None
    with pytest.raises(UnsupportedOpError, match="node 'conv' \\(Conv\\).*float32"):
        run_quantized(g, {"x": X})


def test_missing_quant_params_are_reported():
    g = _conv_graph(float_io=False)
    g.tensors["y"].quant = None
    with pytest.raises(UnsupportedOpError, match="tensor 'y' has no quantization parameters"):
        run_quantized(g, {"x": X})


def test_float_fallback_nodes_run_in_float():
    # Quantize -> Conv (int8) -> Dequantize -> Exp (float, no quant params) : the float node
    # runs with the float interpreter between the integer ones
    g = _conv_graph(float_io=True)
    g.tensors["z"] = Tensor("z", np.float32, (1, 1, 2, 2))
    g.nodes.append(Node("exp", "Exp", ["y"], ["z"]))
    g.outputs = ["z"]
    out = run_quantized(g, {"x": X})["z"]
    y = run_quantized(_conv_graph(float_io=True), {"x": X})["y"]
    np.testing.assert_allclose(out, np.exp(y), rtol=1e-6)


def test_unquantized_integer_inputs_pass_through():
    # token ids feeding an int8 embedding table: no QuantParams on the ids, so they are
    # neither quantized nor dequantized
    g = Graph("emb")
    table = np.arange(12, dtype=np.int8).reshape(4, 3)
    g.tensors["ids"] = Tensor("ids", np.int64, (2,))
    g.tensors["table"] = Tensor("table", np.int8, (4, 3), table, QX)
    g.tensors["e"] = Tensor("e", np.int8, (2, 3), quant=QX)
    g.nodes.append(Node("gather", "Gather", ["table", "ids"], ["e"], {"axis": 0}))
    g.inputs, g.outputs = ["ids"], ["e"]
    ids = np.array([3, 1], np.int64)
    np.testing.assert_array_equal(run_quantized(g, {"ids": ids}, integer_io=True)["e"], table[[3, 1]])
    y = run_quantized(g, {"ids": ids})["e"]
    np.testing.assert_array_equal(y, QX.dequantize(table[[3, 1]]))
