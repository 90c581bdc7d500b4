"""Transpose (ONNX Transpose-13): permute axes by ``perm`` (default: reversed).

The result is made contiguous so later kernels (matmul, im2col) read it efficiently."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS


@FLOAT_OPS.register("Transpose")
def transpose(node, inputs, ctx):
    (x,) = inputs
    perm = node.attrs.get("perm")
    perm = list(range(x.ndim))[::-1] if perm is None else [int(p) for p in perm]
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"node '{node.name}' (Transpose): perm {perm} is not a permutation of "
                         f"the {x.ndim} axes of {tuple(x.shape)}")
    return [np.ascontiguousarray(x.transpose(perm))]
