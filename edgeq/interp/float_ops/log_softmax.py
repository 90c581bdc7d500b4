"""LogSoftmax (ONNX LogSoftmax-13): ``X - max - log(sum(exp(X - max)))`` along ``axis``
(default -1), opset-13 single-axis semantics."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis, require_float


@FLOAT_OPS.register("LogSoftmax")
def log_softmax(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    axis = normalize_axis(node, int(node.attrs.get("axis", -1)), x.ndim)
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return [shifted]
