"""softmax(x, axis): ``exp(x − max) / Σ exp(x − max)`` along ``axis``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("softmax")
def softmax(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    axis = int(inputs.get("axis", -1))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)
