"""constexpr_affine_dequantize (iOS16): ``scale · (quantized_data − zero_point)``
along ``axis``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import along, f32


@OPS.register("constexpr_affine_dequantize")
def constexpr_affine_dequantize(op, inputs, ctx):
    q = np.asarray(inputs["quantized_data"]).astype(np.float32)
    axis = int(inputs["axis"])
    zp = along(np.asarray(inputs["zero_point"], np.float32), q.ndim, axis)
    return along(f32(inputs["scale"]), q.ndim, axis) * (q - zp)
