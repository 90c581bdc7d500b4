"""AveragePool (ONNX AveragePool-19): mean over each window.

The divisor is the number of window elements inside the input, or, with
``count_include_pad=1``, inside the input plus its explicit pads; elements a
``ceil_mode`` window reaches past the end padding never count (as in onnxruntime's
pool kernel and the ONNX reference implementation). Both are computed by summing the
same taps over a 0/1 mask.
"""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float
from edgeq.interp.float_ops._window import pad_spatial, resolve_window


@FLOAT_OPS.register("AveragePool")
def average_pool(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    win = resolve_window(node, x.shape[2:], node.attrs["kernel_shape"],
                         ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    end = tuple(e + o for e, o in zip(win.pads_end, win.overhang))
    xp = pad_spatial(x, win.pads_begin, end)
    spatial = (1, 1) + x.shape[2:]
    if node.attrs.get("count_include_pad", 0):
        mask = pad_spatial(np.ones((1, 1) + tuple(n + b + e for n, b, e in zip(
            x.shape[2:], win.pads_begin, win.pads_end)), x.dtype), (0,) * len(end), win.overhang)
    else:
        mask = pad_spatial(np.ones(spatial, x.dtype), win.pads_begin, end)
    acc = np.zeros(x.shape[:2] + win.out, dtype=x.dtype)
    count = np.zeros((1, 1) + win.out, dtype=x.dtype)
    for _, sl in win.taps():
        acc += xp[(slice(None), slice(None)) + sl]
        count += mask[(slice(None), slice(None)) + sl]
    acc /= count
    return [acc]
