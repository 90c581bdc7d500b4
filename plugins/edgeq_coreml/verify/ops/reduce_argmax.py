"""reduce_argmax(x, axis, keep_dims): int32 index of the first extreme along ``axis``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("reduce_argmax")
def reduce_argmax(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    axis = int(inputs.get("axis", -1))
    y = np.argmax(x, axis=axis)
    if bool(inputs.get("keep_dims", False)):
        y = np.expand_dims(y, axis)
    return y.astype(np.int32)
