"""not_equal(x, y): elementwise ``x != y`` (bool), numpy broadcasting."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("not_equal")
def not_equal(op, inputs, ctx):
    return np.asarray(inputs["x"]) != np.asarray(inputs["y"])
