"""Mish (ONNX Mish-18): ``X * tanh(softplus(X))`` with ``softplus(x) = ln(1 + e^x)``,
computed in float64 (``logaddexp(0, x)`` does not overflow) and rounded once."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("Mish")
def mish(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    x64 = x.astype(np.float64)
    return [(x64 * np.tanh(np.logaddexp(0.0, x64))).astype(x.dtype)]
