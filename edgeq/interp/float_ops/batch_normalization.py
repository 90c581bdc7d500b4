"""BatchNormalization (ONNX BatchNormalization-15, inference mode):
``Y = (X - mean) / sqrt(var + epsilon) * scale + B`` per channel (axis 1)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float, unsupported


@FLOAT_OPS.register("BatchNormalization")
def batch_normalization(node, inputs, ctx):
    x, scale, bias, mean, var = inputs[:5]
    require_float(node, x, scale, bias, mean, var)
    if node.attrs.get("training_mode", 0):
        raise unsupported(node, "training_mode=1")
    eps = float(node.attrs.get("epsilon", 1e-5))
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    # fold into one multiply-add per element, computed in float64 for the per-channel
    # factors only (the tensor-wide arithmetic stays in the input dtype)
    factor = (scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps))
    shift = bias.astype(np.float64) - mean.astype(np.float64) * factor
    y = x * factor.astype(x.dtype).reshape(bshape)
    y += shift.astype(x.dtype).reshape(bshape)
    return [y]
