"""ReduceSum (ONNX ReduceSum-18): the sum over the given axes (see _reduce for axes/keepdims)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._reduce import reduce


@FLOAT_OPS.register("ReduceSum")
def reduce_sum(node, inputs, ctx):
    return reduce(node, inputs, np.sum)
