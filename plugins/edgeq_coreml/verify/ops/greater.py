"""greater(x, y): elementwise ``x > y`` (bool), numpy broadcasting."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("greater")
def greater(op, inputs, ctx):
    return np.asarray(inputs["x"]) > np.asarray(inputs["y"])
