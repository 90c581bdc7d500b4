"""Clip (ONNX Clip-13): ``min(max(X, min), max)``; ``min``/``max`` are optional scalar
inputs (the IR always uses the input form; attribute-form Clip-6 is converted at import)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import optional
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Clip")
def clip(node, inputs, ctx):
    x, lo, hi = inputs[0], optional(inputs, 1), optional(inputs, 2)
    if x.dtype.kind not in "fiu":
        raise dtype_error(node, "expects a numeric tensor", [x, lo, hi])
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and v.size != 1:
            raise ShapeError(f"node '{node.name}' (Clip): '{name}' must be a scalar, got shape "
                             f"{tuple(v.shape)}")
    y = x
    if lo is not None:
        y = np.maximum(y, lo.reshape(()).astype(x.dtype))
    if hi is not None:
        y = np.minimum(y, hi.reshape(()).astype(x.dtype))
    return [y if y is not x else x.copy()]
