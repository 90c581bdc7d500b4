"""upsample_nearest_neighbor(x, scale_factor_height, scale_factor_width): each
pixel repeated (integer factors)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("upsample_nearest_neighbor")
def upsample_nearest_neighbor(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    sh = int(inputs.get("scale_factor_height", 1))
    sw = int(inputs.get("scale_factor_width", 1))
    return np.repeat(np.repeat(x, sh, axis=-2), sw, axis=-1)
