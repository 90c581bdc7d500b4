"""Div (ONNX Div-14): ``A / B`` with numpy broadcasting. Integer division truncates toward
zero as in onnxruntime's C++ kernel (numpy's ``//`` floors instead)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import binary_same_type


def _divide(a, b):
    if a.dtype.kind in "iu":
        q = np.abs(a) // np.abs(b)
        return np.where((a < 0) != (b < 0), -q, q)
    return np.divide(a, b)


@FLOAT_OPS.register("Div")
def div(node, inputs, ctx):
    return binary_same_type(node, inputs, _divide)
