"""quantize (iOS17): ``clip(round(x / scale) + zero_point)`` in the output type's range;
round half to even, as coremltools' value inference (``np.around``) rounds."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import along, f32


@OPS.register("quantize")
def quantize(op, inputs, ctx):
    x = f32(inputs["input"])
    axis = inputs.get("axis")
    dtype = np.dtype(str(inputs["output_dtype"]))
    scale = along(f32(inputs["scale"]), x.ndim, axis)
    zp = inputs.get("zero_point")
    zp = 0.0 if zp is None else along(np.asarray(zp, np.float32), x.ndim, axis)
    info = np.iinfo(dtype)
    q = np.around(x / scale) + zp
    return np.clip(q, info.min, info.max).astype(dtype)
