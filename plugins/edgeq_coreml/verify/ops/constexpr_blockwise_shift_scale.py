"""constexpr_blockwise_shift_scale (iOS18): ``scale · (data − offset)``, each of
``scale``/``offset`` (rank of ``data``) repeated over blocks of ``data.shape[i] / scale.shape[i]``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("constexpr_blockwise_shift_scale")
def constexpr_blockwise_shift_scale(op, inputs, ctx):
    data = np.asarray(inputs["data"]).astype(np.float32)
    scale = f32(inputs["scale"])
    offset = inputs.get("offset")

    def expand(p):
        for axis, (d, s) in enumerate(zip(data.shape, p.shape)):
            p = np.repeat(p, d // s, axis=axis)
        return p

    off = 0.0 if offset is None else expand(np.asarray(offset, np.float32))
    return expand(scale) * (data - off)
