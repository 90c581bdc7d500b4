"""Gather (TFLite GATHER): ``take(data, indices, axis)``; negative indices count from the
end, as in ONNX. Same scale for data and output (e.g. an int8 embedding table); the
indices are plain integers."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Gather")
def gather(node, inputs, ctx):
    data, indices = inputs
    check_same_scale(ctx, node, data, node.inputs[:1], node.outputs)
    if indices.dtype.kind not in "iu":
        raise unsupported(node, "indices must be integers", [data, indices])
    axis = int(node.attrs.get("axis", 0)) % data.ndim
    n = data.shape[axis]
    idx = indices.astype(np.int64)
    if np.any(idx < -n) or np.any(idx >= n):
        raise unsupported(node, f"index out of range for axis {axis} of size {n}")
    return [np.take(data, np.where(idx < 0, idx + n, idx), axis=axis)]
