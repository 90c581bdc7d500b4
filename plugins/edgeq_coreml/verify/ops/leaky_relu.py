"""leaky_relu(x, alpha): ``x`` where positive, else ``alpha·x``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("leaky_relu")
def leaky_relu(op, inputs, ctx):
    x = f32(inputs["x"])
    return np.where(x >= 0, x, f32(inputs.get("alpha", 0.01)) * x)
