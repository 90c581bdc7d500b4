"""Expand (ONNX Expand-13): broadcast the input to ``shape`` with bidirectional (numpy)
broadcasting, so the result shape is ``broadcast(input.shape, shape)``."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints


@FLOAT_OPS.register("Expand")
def expand(node, inputs, ctx):
    x, shape = inputs
    shape = tuple(as_ints(shape))
    try:
        target = np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"node '{node.name}' (Expand): input {tuple(x.shape)} does not "
                         f"broadcast with shape {shape}") from None
    return [np.array(np.broadcast_to(x, target))]
