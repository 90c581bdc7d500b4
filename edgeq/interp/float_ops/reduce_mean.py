"""ReduceMean (ONNX ReduceMean-18): the arithmetic mean (numpy pairwise summation) over the given axes (see _reduce for axes/keepdims)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._reduce import reduce


@FLOAT_OPS.register("ReduceMean")
def reduce_mean(node, inputs, ctx):
    return reduce(node, inputs, np.mean, float_only=True)
