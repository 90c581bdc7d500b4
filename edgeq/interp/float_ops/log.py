"""Log (ONNX Log-13): ``ln(X)``; 0 gives -inf and negatives NaN as in IEEE 754."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Log")
def log(node, inputs, ctx):
    return unary_float(node, inputs, np.log)
