"""ArgMax (ONNX ArgMax-13): int64 index of the maximum along ``axis`` (default 0), the first
occurrence unless ``select_last_index=1``; ``keepdims`` default 1."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis


@FLOAT_OPS.register("ArgMax")
def arg_max(node, inputs, ctx):
    (x,) = inputs
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), x.ndim)
    if node.attrs.get("select_last_index", 0):
        flipped = np.flip(x, axis=axis)
        idx = x.shape[axis] - 1 - np.argmax(flipped, axis=axis)
    else:
        idx = np.argmax(x, axis=axis)
    if node.attrs.get("keepdims", 1):
        idx = np.expand_dims(idx, axis)
    return [idx.astype(np.int64)]
