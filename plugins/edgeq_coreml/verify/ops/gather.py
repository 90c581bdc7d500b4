"""gather(x, indices, axis, batch_dims): ``np.take`` along ``axis`` (negative
indices count from the end); with ``batch_dims`` b, x and indices share their first b
axes and each batch element gathers from its own slice (MIL gather, iOS16)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("gather")
def gather(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axis = int(inputs.get("axis", 0)) % max(x.ndim, 1)
    batch = int(inputs.get("batch_dims", 0) or 0)
    idx = np.asarray(inputs["indices"]).astype(np.int64)
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    if not batch:
        return np.take(x, idx, axis=axis)
    lead = x.shape[:batch]
    xs = x.reshape((-1,) + x.shape[batch:])
    ids = idx.reshape((-1,) + idx.shape[batch:])
    out = np.stack([np.take(xs[i], ids[i], axis=axis - batch) for i in range(xs.shape[0])])
    return out.reshape(lead + out.shape[1:])
