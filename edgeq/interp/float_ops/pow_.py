"""Pow (ONNX Pow-15): ``X ** Y`` with broadcasting. ``Y`` may have another numeric type
(ONNX constraint T1); the result has the type of ``X``. A scalar exponent of exactly 2 or
3 is computed by multiplication, as onnxruntime's Pow kernel special-cases those
(onnxruntime/core/providers/cpu/math/element_wise_ops.cc), giving identical results."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("Pow")
def pow_(node, inputs, ctx):
    x, y = inputs
    if x.dtype.kind not in "fiu" or y.dtype.kind not in "fiu":
        raise dtype_error(node, "expects numeric tensors", [x, y])
    if y.size == 1 and np.broadcast_shapes(x.shape, y.shape) == x.shape:
        e = float(y.reshape(-1)[0])
        if e == 2.0:
            return [x * x]
        if e == 3.0:
            return [x * x * x]
    if x.dtype.kind == "f":
        return [np.power(x, y.astype(x.dtype)).astype(x.dtype, copy=False)]
    return [np.power(x.astype(np.float64), y.astype(np.float64)).astype(x.dtype)]
