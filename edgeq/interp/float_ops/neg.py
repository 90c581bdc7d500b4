"""Neg (ONNX Neg-13): ``-X`` for float and signed integer tensors."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Neg")
def neg(node, inputs, ctx):
    (x,) = inputs
    if x.dtype.kind not in "fi":
        raise dtype_error(node, "expects a float or signed integer tensor", [x])
    return [np.negative(x)]
