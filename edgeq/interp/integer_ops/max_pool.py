"""MaxPool (TFLite MAX_POOL_2D), same scale and zero point in and out.

``reference_integer_ops::MaxPool`` (reference/integer_ops/pooling.h): the maximum raw
value over the window clipped to the input (padding never wins), then the fused
activation clamp. Only the values output is supported (no ONNX ``Indices``).
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops import _window
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, require_int, unsupported)
from edgeq.interp.integer_ops.average_pool import require_same_params


@INTEGER_OPS.register("MaxPool")
def max_pool(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    if len(node.outputs) > 1 and node.outputs[1]:
        raise unsupported(node, "the Indices output has no TFLite integer equivalent")
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    require_same_params(node, qi, qo)
    win = _window.resolve(node, x.shape[2:], node.attrs["kernel_shape"])
    lowest = np.iinfo(x.dtype).min
    xp = win.pad(x, lowest)
    y = np.full(x.shape[:2] + win.out, lowest, x.dtype)
    for _, sl in win.taps():
        np.maximum(y, xp[(slice(None), slice(None)) + sl], out=y)
    lo, hi = fused_range(node, qo)
    return [clamp_cast(y, lo, hi, x.dtype)]
