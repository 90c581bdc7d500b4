"""Relu: ``max(x, 0)`` (ONNX Relu-14)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import apply_fused_clamp


@FLOAT_OPS.register("Relu")
def relu(node, inputs, ctx):
    (x,) = inputs
    return [apply_fused_clamp(node, np.maximum(x, 0).astype(x.dtype))]
