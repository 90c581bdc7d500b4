"""FullyConnected (edgeq canonical op, :mod:`edgeq.ir.ops`): ``Y = X @ W.T + B`` over the
last axis of ``X``; ``W`` is ``[out, in]`` as in TFLite's FULLY_CONNECTED
(tensorflow/lite/kernels/fully_connected.cc). Leading axes are flattened into one GEMM.
"""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import optional, require_float


@FLOAT_OPS.register("FullyConnected")
def fully_connected(node, inputs, ctx):
    x, w, b = inputs[0], inputs[1], optional(inputs, 2)
    require_float(node, x, w, b)
    if w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ShapeError(f"node '{node.name}' (FullyConnected): input {tuple(x.shape)} and "
                         f"weight {tuple(w.shape)} (expected [out, {x.shape[-1]}]) do not match")
    y = np.matmul(x.reshape(-1, x.shape[-1]), w.T)
    if b is not None:
        y += b
    return [y.reshape(x.shape[:-1] + (w.shape[0],))]
