"""ReduceL2 (ONNX ReduceL2-18): ``sqrt(sum(X^2))`` over the given axes (see ``_reduce``)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._reduce import reduce


def _l2(x, axis, keepdims):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


@FLOAT_OPS.register("ReduceL2")
def reduce_l2(node, inputs, ctx):
    return reduce(node, inputs, _l2, float_only=True)
