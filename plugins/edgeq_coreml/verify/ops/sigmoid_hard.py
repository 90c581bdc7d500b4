"""sigmoid_hard(x, alpha, beta): ``min(max(alpha·x + beta, 0), 1)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("sigmoid_hard")
def sigmoid_hard(op, inputs, ctx):
    a = f32(inputs.get("alpha", 0.2))
    b = f32(inputs.get("beta", 0.5))
    return np.clip(a * f32(inputs["x"]) + b, 0.0, 1.0)
