"""SquaredDifference (edgeq IR op, TFLite SQUARED_DIFFERENCE): ``(A - B)²`` with
multidirectional (numpy) broadcasting, written by the LayerNorm lowering; this kernel
runs a lowered graph's SquaredDifference left in float."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import binary_same_type


@FLOAT_OPS.register("SquaredDifference")
def squared_difference(node, inputs, ctx):
    return binary_same_type(node, inputs, lambda a, b: np.square(np.subtract(a, b)))
