"""GatherElements (ONNX GatherElements-13): ``out[i][j][k] = data[index[i][j][k]][j][k]``
for ``axis = 0`` (and likewise on any axis): ``take_along_axis``. Negative indices
count from the end; an out-of-range index is an error (onnxruntime rejects it too).
The index may be smaller than the data on every axis but ``axis`` (the ONNX spec only
requires equal rank), so the data is cut to the index's extent first."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("GatherElements")
def gather_elements(node, inputs, ctx):
    data, indices = inputs
    if indices.dtype.kind not in "iu":
        raise dtype_error(node, "expects int32/int64 indices", [data, indices])
    if indices.ndim != data.ndim:
        raise ShapeError(f"node '{node.name}' (GatherElements): index rank {indices.ndim} must "
                         f"equal data rank {data.ndim}")
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), data.ndim)
    dim = data.shape[axis]
    idx = indices.astype(np.int64)
    if idx.size and (idx.min() < -dim or idx.max() >= dim):
        raise ShapeError(f"node '{node.name}' (GatherElements): indices in [{idx.min()}, "
                         f"{idx.max()}] are out of range for axis {axis} of size {dim}")
    if any(i > d for a, (i, d) in enumerate(zip(idx.shape, data.shape)) if a != axis):
        raise ShapeError(f"node '{node.name}' (GatherElements): index shape {idx.shape} exceeds "
                         f"data shape {data.shape} off axis {axis}")
    idx = np.where(idx < 0, idx + dim, idx)
    cut = tuple(slice(None) if a == axis else slice(0, n) for a, n in enumerate(idx.shape))
    return [np.take_along_axis(data[cut], idx, axis=axis)]
