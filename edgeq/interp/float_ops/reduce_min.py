"""ReduceMin (ONNX ReduceMin-18): the minimum over the given axes (see _reduce for axes/keepdims)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._reduce import reduce


@FLOAT_OPS.register("ReduceMin")
def reduce_min(node, inputs, ctx):
    return reduce(node, inputs, np.min)
