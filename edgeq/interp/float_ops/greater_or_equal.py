"""GreaterOrEqual (ONNX GreaterOrEqual): ``A >= B`` elementwise with broadcasting; bool output."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype


@FLOAT_OPS.register("GreaterOrEqual")
def greater_or_equal(node, inputs, ctx):
    a, b = inputs
    require_same_dtype(node, a, b)
    return [np.greater_equal(a, b)]
