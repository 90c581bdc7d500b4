"""MatMul (ONNX MatMul-13): numpy ``matmul`` semantics (1-D promotion, batch broadcasting),
which the ONNX spec adopts verbatim."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype


@FLOAT_OPS.register("MatMul")
def matmul(node, inputs, ctx):
    a, b = inputs
    require_same_dtype(node, a, b)
    try:
        return [np.matmul(a, b)]
    except ValueError as exc:
        raise ShapeError(f"node '{node.name}' (MatMul): shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)} do not multiply ({exc})") from None
