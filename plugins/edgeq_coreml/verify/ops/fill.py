"""fill(shape, value)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("fill")
def fill(op, inputs, ctx):
    return np.full([int(d) for d in np.asarray(inputs["shape"]).reshape(-1)], f32(inputs.get("value", 0.0)))
