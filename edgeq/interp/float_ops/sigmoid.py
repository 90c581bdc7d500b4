"""Sigmoid (ONNX Sigmoid-13): ``1 / (1 + exp(-X))``.

Computed from ``e = exp(-|X|)`` as ``1 / (1 + e)`` for ``X >= 0`` and ``e / (1 + e)``
otherwise: no overflow for large ``|X|`` and full relative accuracy in both tails."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    d = 1 + e
    return np.where(x >= 0, 1 / d, e / d).astype(x.dtype, copy=False)


@FLOAT_OPS.register("Sigmoid")
def sigmoid(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    return [sigmoid_array(x)]
