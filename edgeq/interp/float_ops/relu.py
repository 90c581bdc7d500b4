"""Relu (ONNX Relu-14): ``max(X, 0)``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Relu")
def relu(node, inputs, ctx):
    (x,) = inputs
    if x.dtype.kind not in "fi":
        raise dtype_error(node, "expects a float or signed integer tensor", [x])
    return [np.maximum(x, 0).astype(x.dtype, copy=False)]
