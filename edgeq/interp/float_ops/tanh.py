"""Tanh (ONNX Tanh-13): ``tanh(X)``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Tanh")
def tanh(node, inputs, ctx):
    return unary_float(node, inputs, np.tanh)
