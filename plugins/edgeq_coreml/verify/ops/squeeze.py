"""squeeze(x, axes): drop the size-1 ``axes`` (all size-1 axes when absent)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("squeeze")
def squeeze(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axes = inputs.get("axes")
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(a) % x.ndim for a in np.asarray(axes).reshape(-1)))
