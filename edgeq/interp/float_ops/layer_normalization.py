"""LayerNormalization (ONNX LayerNormalization-17): normalise over axes ``[axis, rank)``:
``Y = (X - mean) / sqrt(var + epsilon) * Scale + B`` (biased variance, epsilon 1e-5).

Mean and variance are computed in float64 with the two-pass formula; onnxruntime also
accumulates these statistics in double (layer_norm_impl.cc), so results agree to float32
rounding. Optional outputs ``Mean`` and ``InvStdDev`` have the reduced axes kept as 1.
"""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis, optional, require_float


@FLOAT_OPS.register("LayerNormalization")
def layer_normalization(node, inputs, ctx):
    x, scale, bias = inputs[0], inputs[1], optional(inputs, 2)
    require_float(node, x, scale, bias)
    axis = normalize_axis(node, int(node.attrs.get("axis", -1)), x.ndim)
    eps = float(node.attrs.get("epsilon", 1e-5))
    axes = tuple(range(axis, x.ndim))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True)
    centered = x64 - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    y = (centered * inv_std).astype(x.dtype)
    y *= scale
    if bias is not None:
        y += bias
    outs = [y]
    if len(node.outputs) > 1:
        outs.append(mean.astype(np.float32))
    if len(node.outputs) > 2:
        outs.append(inv_std.astype(np.float32))
    return outs
