"""Where (ONNX Where-16): ``X if condition else Y`` elementwise with broadcasting."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Where")
def where(node, inputs, ctx):
    cond, x, y = inputs
    if cond.dtype != np.bool_:
        raise dtype_error(node, "expects a bool condition", [cond, x, y])
    require_same_dtype(node, x, y)
    return [np.where(cond, x, y)]
