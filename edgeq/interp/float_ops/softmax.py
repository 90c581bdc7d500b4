"""Softmax (ONNX Softmax-13): ``exp(X - max) / sum(exp(X - max))`` along ``axis``
(default -1). The IR uses opset-13 semantics (one axis, not the flattened 2-D view of
Softmax-1/11); the importer converts older models."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis, require_float


@FLOAT_OPS.register("Softmax")
def softmax(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    axis = normalize_axis(node, int(node.attrs.get("axis", -1)), x.ndim)
    e = x - x.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return [e]
