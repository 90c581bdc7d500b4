"""split(x, split_sizes | num_splits, axis)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("split")
def split(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axis = int(inputs["axis"])
    sizes = inputs.get("split_sizes")
    if sizes is None:
        return list(np.split(x, int(inputs["num_splits"]), axis=axis))
    return list(np.split(x, np.cumsum([int(s) for s in np.asarray(sizes).reshape(-1)])[:-1], axis=axis))
