"""transpose(x, perm)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("transpose")
def transpose(op, inputs, ctx):
    return np.transpose(np.asarray(inputs["x"]), [int(p) for p in np.asarray(inputs["perm"]).reshape(-1)])
