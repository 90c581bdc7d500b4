"""concat(values, axis, interleave): join along ``axis``; with ``interleave`` the inputs'
slices along ``axis`` alternate (MIL concat: equal shapes, element k of input j lands at
k·n + j)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("concat")
def concat(op, inputs, ctx):
    values = [np.asarray(v) for v in inputs["values"]]
    dtype = np.result_type(*values)
    axis = int(inputs["axis"])
    if bool(inputs.get("interleave", False)):
        axis = axis % values[0].ndim
        stacked = np.stack([v.astype(dtype) for v in values], axis=axis + 1)
        shape = list(values[0].shape)
        shape[axis] *= len(values)
        return stacked.reshape(shape)
    return np.concatenate([v.astype(dtype) for v in values], axis=axis)
