"""Inputs edgeq cannot take are named as the model's problem: a size-0 dimension is
shown as 0 (not as dynamic) and refused; a string-typed input is an unsupported input
type, not a calibration-data dtype mismatch."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

import edgeq
from _quant_models import save
from edgeq.errors import ShapeError


def _identity(elem, shape):
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", elem, shape)],
                          [helper.make_tensor_value_info("y", elem, shape)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_size_zero_dimension_is_refused_as_zero(tmp_path):
    path = save(_identity(TensorProto.FLOAT, [1, 0, 3]), tmp_path / "z.onnx")
    with pytest.raises(ShapeError, match=r"input 'x' declares a dimension of size 0 \(axis 1, shape 1x0x3\)"):
        edgeq.load(str(path))


def test_string_input_is_an_unsupported_input_type(tmp_path):
    path = save(_identity(TensorProto.STRING, [1, 4]), tmp_path / "s.onnx")
    with pytest.raises(ShapeError, match=r"input 'x' has element type STRING; edgeq quantizes models with "
                                         r"numeric inputs only") as info:
        edgeq.load(str(path))
    assert "dtype" not in str(info.value)
