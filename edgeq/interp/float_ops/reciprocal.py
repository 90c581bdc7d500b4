"""Reciprocal (ONNX Reciprocal-13): ``1 / X``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Reciprocal")
def reciprocal(node, inputs, ctx):
    return unary_float(node, inputs, lambda x: np.reciprocal(x))
