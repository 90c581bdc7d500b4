"""rsqrt(x, epsilon): ``1 / sqrt(x + epsilon)`` (elementwise_unary.rsqrt)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("rsqrt")
def rsqrt(op, inputs, ctx):
    eps = np.float32(float(inputs.get("epsilon", 1e-12)))
    x = f32(inputs["x"]) + eps.astype(np.asarray(inputs["x"]).dtype).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / np.sqrt(x)
