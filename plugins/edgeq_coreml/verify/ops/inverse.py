"""inverse(x, epsilon): ``1 / (x + epsilon)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("inverse")
def inverse(op, inputs, ctx):
    eps = np.float32(float(inputs.get("epsilon", 1e-4)))
    with np.errstate(divide="ignore"):
        return 1.0 / (f32(inputs["x"]) + eps)
