"""select(cond, a, b): ``a`` where ``cond`` else ``b`` (broadcasting); the converter
writes it to wrap negative gather indices."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("select")
def select(op, inputs, ctx):
    a, b = np.asarray(inputs["a"]), np.asarray(inputs["b"])
    return np.where(np.asarray(inputs["cond"]).astype(bool), a, b.astype(a.dtype))
