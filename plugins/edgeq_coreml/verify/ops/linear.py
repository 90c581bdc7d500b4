"""linear: ``x · weightᵀ + bias`` over the last axis (weight ``[out, in]``), float64
accumulation."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("linear")
def linear(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    w = np.asarray(inputs["weight"], np.float64)
    y = x @ w.T
    if inputs.get("bias") is not None:
        y = y + np.asarray(inputs["bias"], np.float64)
    return y.astype(np.float32)
