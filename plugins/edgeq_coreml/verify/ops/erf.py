"""erf(x): the error function (math.erf per element, exact to float64)."""

from __future__ import annotations

import math

import numpy as np

from edgeq_coreml.verify.ops import OPS

_ERF = np.vectorize(math.erf, otypes=[np.float64])


@OPS.register("erf")
def erf(op, inputs, ctx):
    return _ERF(np.asarray(inputs["x"], np.float64)).astype(np.float32)
