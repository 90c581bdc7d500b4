"""gather(x, indices, axis, batch_dims): ``np.take`` along ``axis`` (negative
indices count from the end)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("gather")
def gather(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axis = int(inputs.get("axis", 0))
    if int(inputs.get("batch_dims", 0) or 0):
        raise NotImplementedError("gather with batch_dims")
    idx = np.asarray(inputs["indices"]).astype(np.int64)
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    return np.take(x, idx, axis=axis)
