"""erf(x): the error function (math.erf per element, exact to float64)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import along, f32  # noqa: F401


import math  # noqa: E402

_ERF = np.vectorize(math.erf, otypes=[np.float64])


@OPS.register("erf")
def erf(op, inputs, ctx):
    return _ERF(np.asarray(inputs["x"], np.float64)).astype(np.float32)
