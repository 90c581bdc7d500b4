"""log(x, epsilon): ``log(x + epsilon)`` (elementwise_unary.log)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("log")
def log(op, inputs, ctx):
    eps = float(inputs.get("epsilon", 1e-45) or 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(f32(inputs["x"]) + np.float32(eps))
