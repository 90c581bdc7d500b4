"""matmul: batched ``x @ y`` with optional transposes of the last two axes."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("matmul")
def matmul(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    y = np.asarray(inputs["y"], np.float64)
    if inputs.get("transpose_x") is not None and bool(inputs["transpose_x"]):
        x = np.swapaxes(x, -1, -2)
    if inputs.get("transpose_y") is not None and bool(inputs["transpose_y"]):
        y = np.swapaxes(y, -1, -2)
    return (x @ y).astype(np.float32)
