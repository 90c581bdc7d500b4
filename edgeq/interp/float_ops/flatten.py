"""Flatten (ONNX Flatten-13): reshape to 2-D ``[prod(shape[:axis]), prod(shape[axis:])]``
(axis default 1; ``axis == rank`` is allowed)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS


@FLOAT_OPS.register("Flatten")
def flatten(node, inputs, ctx):
    (x,) = inputs
    axis = int(node.attrs.get("axis", 1))
    if not -x.ndim <= axis <= x.ndim:
        raise ShapeError(f"node '{node.name}' (Flatten): axis {axis} is out of range for rank {x.ndim}")
    axis = axis + x.ndim if axis < 0 else axis
    return [x.reshape(int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:])))]
