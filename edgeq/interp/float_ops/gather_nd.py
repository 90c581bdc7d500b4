"""GatherND (ONNX GatherND-13): ``indices[..., :]`` of length ``k`` address slices of
``data`` after ``batch_dims`` leading batch axes; the result has shape
``indices.shape[:-1] + data.shape[batch_dims + k:]``. Negative indices count from the
end; an out-of-range index is an error (onnxruntime rejects it too).

The dynamo exporter of torch (the default of ``torch.onnx.export`` since torch 2.9)
writes advanced indexing, e.g. the attention-mask lookup of transformers 5, this way."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("GatherND")
def gather_nd(node, inputs, ctx):
    data, indices = inputs
    if indices.dtype.kind not in "iu":
        raise dtype_error(node, "expects int64 indices", [data, indices])
    b = int(node.attrs.get("batch_dims", 0))
    k = indices.shape[-1] if indices.ndim else 0
    if indices.ndim < 1 or b + k > data.ndim or indices.shape[:b] != data.shape[:b]:
        raise ShapeError(f"node '{node.name}' (GatherND): indices {indices.shape} with batch_dims={b} "
                         f"do not address data of shape {data.shape}")
    dims = np.array(data.shape[b:b + k], np.int64)
    idx = indices.astype(np.int64)
    if idx.size and ((idx < -dims).any() or (idx >= dims).any()):
        raise ShapeError(f"node '{node.name}' (GatherND): an index is out of range for the data "
                         f"axes {tuple(int(d) for d in dims)}")
    idx = np.where(idx < 0, idx + dims, idx)
    batch = int(np.prod(data.shape[:b], dtype=np.int64))
    flat_data = data.reshape((batch,) + data.shape[b:])
    flat_idx = idx.reshape(batch, -1, k)
    rows = [flat_data[i][tuple(flat_idx[i].T)] for i in range(batch)]
    out = np.stack(rows) if rows else np.zeros((0,), data.dtype)
    return [out.reshape(indices.shape[:-1] + data.shape[b + k:])]
