"""LeakyRelu (ONNX LeakyRelu-16): ``X if X >= 0 else alpha * X`` (alpha default 0.01)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("LeakyRelu")
def leaky_relu(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    alpha = np.asarray(node.attrs.get("alpha", 0.01), dtype=x.dtype)
    return [np.where(x >= 0, x, x * alpha)]
