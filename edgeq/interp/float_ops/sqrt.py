"""Sqrt (ONNX Sqrt-13): ``sqrt(X)``; negative inputs give NaN as in IEEE 754."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Sqrt")
def sqrt(node, inputs, ctx):
    return unary_float(node, inputs, np.sqrt)
