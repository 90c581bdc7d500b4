"""Tile (ONNX Tile-13): repeat the input ``repeats[i]`` times along each axis."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints


@FLOAT_OPS.register("Tile")
def tile(node, inputs, ctx):
    x, repeats = inputs
    reps = as_ints(repeats)
    if len(reps) != x.ndim or min(reps, default=0) < 0:
        raise ShapeError(f"node '{node.name}' (Tile): repeats {reps} must be {x.ndim} "
                         f"non-negative values for input {tuple(x.shape)}")
    return [np.tile(x, reps)]
