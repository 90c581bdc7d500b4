"""Abs (ONNX Abs-13): ``|X|`` for numeric tensors."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Abs")
def abs_(node, inputs, ctx):
    (x,) = inputs
    if x.dtype.kind not in "fiu":
        raise dtype_error(node, "expects a numeric tensor", [x])
    return [np.abs(x)]
