"""Or (ONNX Or): logical OR of bool tensors, elementwise with broadcasting."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Or")
def or_(node, inputs, ctx):
    if any(a.dtype != np.bool_ for a in inputs):
        raise dtype_error(node, "expects bool tensors", inputs)
    return [np.logical_or(*inputs)]
