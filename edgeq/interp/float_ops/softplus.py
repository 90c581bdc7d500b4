"""Softplus (ONNX Softplus-1): ``ln(1 + e^X)``, as ``logaddexp(0, x)`` in float64 (no
overflow for large x), rounded once."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("Softplus")
def softplus(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    return [np.logaddexp(0.0, x.astype(np.float64)).astype(x.dtype)]
