"""reduce_mean(x, axes, keep_dims): ``np.mean`` over ``axes`` (all when absent), float64."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("reduce_mean")
def reduce_mean(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    axes = inputs.get("axes")
    axes = None if axes is None else tuple(int(a) % x.ndim for a in np.asarray(axes).reshape(-1))
    keep = bool(inputs.get("keep_dims", False))
    return np.asarray(np.mean(x, axis=axes, keepdims=keep)).astype(np.float32)
