"""Sub (ONNX Sub-14): ``A - B``, with multidirectional (numpy) broadcasting."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import binary_same_type


@FLOAT_OPS.register("Sub")
def sub(node, inputs, ctx):
    return binary_same_type(node, inputs, np.subtract)
