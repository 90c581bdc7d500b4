"""Floor (ONNX Floor-13): round toward -inf."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Floor")
def floor(node, inputs, ctx):
    return unary_float(node, inputs, np.floor)
