"""MaxPool (ONNX MaxPool-12): max over each window; padded positions are ``-inf`` so they
never win. The optional ``Indices`` output is not supported."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float, unsupported
from edgeq.interp.float_ops._window import pad_spatial, resolve_window


@FLOAT_OPS.register("MaxPool")
def max_pool(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    if len(node.outputs) > 1 and node.outputs[1]:
        raise unsupported(node, "the Indices output")
    if node.attrs.get("storage_order", 0):
        raise unsupported(node, "storage_order=1")
    win = resolve_window(node, x.shape[2:], node.attrs["kernel_shape"],
                         ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    end = tuple(e + o for e, o in zip(win.pads_end, win.overhang))
    xp = pad_spatial(x, win.pads_begin, end, value=-np.inf)
    acc = None
    for _, sl in win.taps():
        window = xp[(slice(None), slice(None)) + sl]
        acc = window.copy() if acc is None else np.maximum(acc, window, out=acc)
    return [acc]
