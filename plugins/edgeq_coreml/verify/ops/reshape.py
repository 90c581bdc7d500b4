"""reshape(x, shape): ``0`` copies the input dimension, ``-1`` is inferred."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("reshape")
def reshape(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    shape = [int(d) for d in np.asarray(inputs["shape"]).reshape(-1)]
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)
