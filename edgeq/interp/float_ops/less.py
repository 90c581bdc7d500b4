"""Less (ONNX Less): ``A < B`` elementwise with broadcasting; bool output."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype


@FLOAT_OPS.register("Less")
def less(node, inputs, ctx):
    a, b = inputs
    require_same_dtype(node, a, b)
    return [np.less(a, b)]
