"""tile(x, reps)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("tile")
def tile(op, inputs, ctx):
    return np.tile(np.asarray(inputs["x"]), [int(r) for r in np.asarray(inputs["reps"]).reshape(-1)])
