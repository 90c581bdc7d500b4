"""Exp (ONNX Exp-13): ``e ** X``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Exp")
def exp(node, inputs, ctx):
    return unary_float(node, inputs, np.exp)
