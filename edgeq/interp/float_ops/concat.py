"""Concat (ONNX Concat-13): join inputs of one dtype along ``axis``."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import normalize_axis, require_same_dtype


@FLOAT_OPS.register("Concat")
def concat(node, inputs, ctx):
    arrays = [a for a in inputs if a is not None]
    require_same_dtype(node, *arrays)
    axis = normalize_axis(node, int(node.attrs["axis"]), arrays[0].ndim)
    try:
        return [np.concatenate(arrays, axis=axis)]
    except ValueError as exc:
        raise ShapeError(f"node '{node.name}' (Concat): cannot join shapes "
                         f"{[tuple(a.shape) for a in arrays]} on axis {axis} ({exc})") from None
