"""Gather (ONNX Gather-13): ``take(data, indices, axis)``; negative indices count from the
end; an out-of-range index is an error (onnxruntime rejects it too)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Gather")
def gather(node, inputs, ctx):
    data, indices = inputs
    if indices.dtype.kind not in "iu":
        raise dtype_error(node, "expects int32/int64 indices", [data, indices])
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), data.ndim)
    dim = data.shape[axis]
    idx = indices.astype(np.int64)
    if idx.size and (idx.min() < -dim or idx.max() >= dim):
        raise ShapeError(f"node '{node.name}' (Gather): indices in [{idx.min()}, {idx.max()}] are "
                         f"out of range for axis {axis} of size {dim}")
    idx = np.where(idx < 0, idx + dim, idx)
    return [np.take(data, idx, axis=axis)]
