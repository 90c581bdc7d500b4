"""ReduceMax (ONNX ReduceMax-18): the maximum over the given axes (see _reduce for axes/keepdims)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._reduce import reduce


@FLOAT_OPS.register("ReduceMax")
def reduce_max(node, inputs, ctx):
    return reduce(node, inputs, np.max)
