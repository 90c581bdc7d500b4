"""HardSwish (ONNX HardSwish-14): ``X * max(0, min(1, X / 6 + 0.5))`` (alpha = 1/6,
beta = 0.5), in the input dtype."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("HardSwish")
def hard_swish(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    g = x * np.asarray(1 / 6, dtype=x.dtype)
    g += np.asarray(0.5, dtype=x.dtype)
    np.clip(g, 0, 1, out=g)
    g *= x
    return [g]
