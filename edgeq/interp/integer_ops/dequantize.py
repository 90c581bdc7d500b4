"""Dequantize (TFLite DEQUANTIZE): ``float(double(scale) · (q − zero_point))``.

``reference_ops::Dequantize`` (reference/dequantize.h) multiplies in double and casts
to float; ``(q − zp)`` is a small integer and ``scale`` a float32, so the double product
is exact and the single cast gives the correctly rounded float32. Per-channel params
(``PerChannelDequantize``) broadcast along their axis.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import in_quant, require_int


@INTEGER_OPS.register("Dequantize")
def dequantize(node, inputs, ctx):
    q = inputs[0]
    require_int(node, [q], (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16),
                            np.dtype(np.int32)))
    qp = in_quant(ctx, node)
    shape = qp.broadcast_shape(q.ndim)
    scale = qp.scale.astype(np.float64).reshape(shape)
    zp = qp.zero_point.reshape(shape)
    return [((q.astype(np.int64) - zp) * scale).astype(np.float32)]
