"""Gemm (ONNX Gemm-13): ``Y = alpha * A' @ B' + beta * C`` with ``A' = A.T if transA``,
``B' = B.T if transB`` and ``C`` unidirectionally broadcast to ``[M, N]``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import optional, require_float


@FLOAT_OPS.register("Gemm")
def gemm(node, inputs, ctx):
    a, b, c = inputs[0], inputs[1], optional(inputs, 2)
    require_float(node, a, b, c)
    alpha = float(node.attrs.get("alpha", 1.0))
    beta = float(node.attrs.get("beta", 1.0))
    if node.attrs.get("transA", 0):
        a = a.T
    if node.attrs.get("transB", 0):
        b = b.T
    y = np.matmul(a, b)
    if alpha != 1.0:
        y *= np.asarray(alpha, dtype=y.dtype)
    if c is not None and beta != 0.0:
        y += c if beta == 1.0 else np.asarray(beta, dtype=y.dtype) * c
    return [y]
