"""Split (ONNX Split-18): split ``input`` along ``axis`` by the optional ``split`` input
(sizes), else into ``num_outputs`` (attribute) or ``len(outputs)`` parts of
``ceil(dim / n)`` with a smaller last part."""

import math

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints, normalize_axis, optional


@FLOAT_OPS.register("Split")
def split(node, inputs, ctx):
    x = inputs[0]
    axis = normalize_axis(node, int(node.attrs.get("axis", 0)), x.ndim)
    dim = x.shape[axis]
    sizes = as_ints(optional(inputs, 1))
    n = len(node.outputs)
    if sizes is None:
        parts = int(node.attrs.get("num_outputs", n))
        chunk = math.ceil(dim / parts)
        sizes = [chunk] * (parts - 1) + [dim - chunk * (parts - 1)]
    if len(sizes) != n or sum(sizes) != dim or min(sizes) < 0:
        raise ShapeError(f"node '{node.name}' (Split): sizes {sizes} do not split axis {axis} "
                         f"of {tuple(x.shape)} into {n} outputs")
    return list(np.split(x, np.cumsum(sizes)[:-1], axis=axis))
