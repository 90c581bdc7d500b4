"""minimum(x, y): elementwise ``np.minimum(x, y)`` with numpy broadcasting (elementwise_binary)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("minimum")
def minimum(op, inputs, ctx):
    x, y = f32(inputs["x"]), f32(inputs["y"])
    return np.minimum(x, y)
