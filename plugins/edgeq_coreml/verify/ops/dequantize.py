"""dequantize (iOS17): ``scale · (input − zero_point)``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import along, f32


@OPS.register("dequantize")
def dequantize(op, inputs, ctx):
    q = np.asarray(inputs["input"]).astype(np.float32)
    axis = inputs.get("axis")
    zp = inputs.get("zero_point")
    zp = 0.0 if zp is None else along(np.asarray(zp, np.float32), q.ndim, axis)
    return along(f32(inputs["scale"]), q.ndim, axis) * (q - zp)
