"""ArgMax / ArgMin (TFLite ARG_MAX / ARG_MIN) on raw integers: the comparison of
quantized values of one tensor orders them like the real values (positive scale), so no
arithmetic is involved. Ties pick the first index (TFLite and ONNX's default); ONNX's
``select_last_index=1`` picks the last. Output int64 indices, ``keepdims`` as ONNX.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import in_quant, require_int


def _arg(node, inputs, ctx, fn):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16)))
    in_quant(ctx, node)  # a quantized input is expected
    axis = int(node.attrs.get("axis", 0)) % x.ndim
    if node.attrs.get("select_last_index", 0):
        flipped = np.flip(x, axis=axis)
        idx = x.shape[axis] - 1 - fn(flipped, axis=axis)
    else:
        idx = fn(x, axis=axis)
    if node.attrs.get("keepdims", 1):
        idx = np.expand_dims(idx, axis)
    return [idx.astype(np.int64)]


@INTEGER_OPS.register("ArgMax")
def arg_max(node, inputs, ctx):
    return _arg(node, inputs, ctx, np.argmax)


@INTEGER_OPS.register("ArgMin")
def arg_min(node, inputs, ctx):
    return _arg(node, inputs, ctx, np.argmin)
