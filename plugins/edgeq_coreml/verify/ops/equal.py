"""equal(x, y): elementwise ``x == y`` (bool), numpy broadcasting."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("equal")
def equal(op, inputs, ctx):
    return np.asarray(inputs["x"]) == np.asarray(inputs["y"])
