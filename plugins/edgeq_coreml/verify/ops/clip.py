"""clip(x, alpha, beta): ``min(max(x, alpha), beta)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("clip")
def clip(op, inputs, ctx):
    return np.minimum(np.maximum(f32(inputs["x"]), f32(inputs["alpha"])), f32(inputs["beta"]))
