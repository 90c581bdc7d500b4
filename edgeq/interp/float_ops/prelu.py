"""PRelu (ONNX PRelu-16): ``X if X >= 0 else slope * X``; ``slope`` broadcasts
unidirectionally to ``X`` (e.g. ``[C, 1, 1]`` for per-channel slopes)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype


@FLOAT_OPS.register("PRelu")
def prelu(node, inputs, ctx):
    x, slope = inputs
    require_same_dtype(node, x, slope)
    if np.broadcast_shapes(x.shape, slope.shape) != x.shape:
        raise ShapeError(f"node '{node.name}' (PRelu): slope {tuple(slope.shape)} does not "
                         f"broadcast to input {tuple(x.shape)}")
    return [np.where(x >= 0, x, x * slope)]
