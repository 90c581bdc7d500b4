"""Parsing and checking user input shapes (``--input NAME:1x3x224x224``)."""

import numpy as np
import pytest

from edgeq.errors import ShapeError, UsageError
from edgeq.ir.shapes import (
    format_shape,
    normalize_input_shapes,
    parse_input_spec,
    parse_input_specs,
    resolve_input_shape,
)


@pytest.mark.parametrize("spec, expected", [
    ("x:1x3x224x224", ("x", (1, 3, 224, 224))),
    ("input_ids:1x64", ("input_ids", (1, 64))),
    ("x:1,3,48,192", ("x", (1, 3, 48, 192))),
    ("input:0:1x10", ("input:0", (1, 10))),  # TF-style names keep their colon
    ("scale:7", ("scale", (7,))),
    (" x : 2x3 ", ("x", (2, 3))),
])
def test_parse_input_spec(spec, expected):
    assert parse_input_spec(spec) == expected


@pytest.mark.parametrize("spec, fragment", [
    ("x", "expected NAME:SHAPE"),
    (":1x3", "name before ':' is empty"),
    ("x:", "shape is empty"),
    ("x:1xAx3", "dimension 'A'"),
    ("x:1x-3", "dimension '-3'"),
    ("x:1x0x3", "must be positive"),
    ("x:1x3.5", "dimension '3.5'"),
    ("x:1xx3", "dimension ''"),
])
def test_malformed_spec_is_usage_error_quoting_it(spec, fragment):
    with pytest.raises(UsageError) as err:
        parse_input_spec(spec)
    assert fragment in str(err.value)
    assert err.value.exit_code == 2


def test_parse_specs_rejects_duplicates():
    assert parse_input_specs(["a:1x2", "b:3"]) == {"a": (1, 2), "b": (3,)}
    with pytest.raises(UsageError, match="more than once"):
        parse_input_specs(["a:1x2", "a:1x3"])


def test_normalize_api_shapes():
    assert normalize_input_shapes(None) == {}
    assert normalize_input_shapes({"x": [1, np.int64(3)], "y": "2x5"}) == {"x": (1, 3), "y": (2, 5)}
    for bad in ({"x": (1, -2)}, {"x": (1, 2.5)}, {"x": 5}, {"x": (True, 2)}, {"x": ("a",)}, [("x", (1,))]):
        with pytest.raises(UsageError):
            normalize_input_shapes(bad)


def test_resolve_uses_static_dims_and_user_dims():
    assert resolve_input_shape("x", [1, 3, 8, 8], None, source="m.onnx") == (1, 3, 8, 8)
    assert resolve_input_shape("x", [None, 3, "h", "w"], (2, 3, 5, 7), source="m.onnx") == (2, 3, 5, 7)


def test_dynamic_dim_without_shape_names_input_dim_and_fix():
    with pytest.raises(ShapeError) as err:
        resolve_input_shape("x", [None, 3, "height", 192], None, source="m.onnx")
    msg = str(err.value)
    assert "m.onnx" in msg and "'x'" in msg
    assert "0 ('?')" in msg and "2 ('height')" in msg
    assert "--input x:1x3x224x192" in msg
    assert "input_shapes={'x': (1, 3, 224, 192)}" in msg


def test_user_shape_must_agree_with_model():
    with pytest.raises(ShapeError, match="rank 4"):
        resolve_input_shape("x", [None, 3, 8, 8], (1, 3, 8), source="m.onnx")
    with pytest.raises(ShapeError, match="fixed to 3") as err:
        resolve_input_shape("x", [None, 3, 8, 8], (1, 4, 8, 8), source="m.onnx")
    assert "--input x:1x3x8x8" in str(err.value)


def test_format_shape():
    assert format_shape([1, "N", None, 4]) == "1xNx?x4"
