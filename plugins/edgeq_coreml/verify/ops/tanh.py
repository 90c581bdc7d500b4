"""tanh(x): ``tanh(x)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("tanh")
def tanh(op, inputs, ctx):
    x = f32(inputs["x"])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.tanh(x)
