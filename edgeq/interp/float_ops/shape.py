"""Shape (ONNX Shape-15): the input's shape as int64, sliced by ``start``/``end``
(clamped like Python slicing)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS


@FLOAT_OPS.register("Shape")
def shape(node, inputs, ctx):
    (x,) = inputs
    start = node.attrs.get("start", 0)
    end = node.attrs.get("end")
    return [np.array(x.shape[start:end], dtype=np.int64)]
