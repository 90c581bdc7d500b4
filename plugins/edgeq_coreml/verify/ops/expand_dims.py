"""expand_dims(x, axes): insert size-1 axes (indices of the output)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("expand_dims")
def expand_dims(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axes = [int(a) for a in np.asarray(inputs["axes"]).reshape(-1)]
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = np.expand_dims(x, a)
    return x
