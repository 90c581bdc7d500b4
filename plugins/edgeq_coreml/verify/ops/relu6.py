"""relu6(x): ``min(max(x, 0), 6)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("relu6")
def relu6(op, inputs, ctx):
    x = f32(inputs["x"])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.clip(x, 0, 6)
