"""Squeeze (ONNX Squeeze-13): remove the size-1 axes given by the optional ``axes``
input (all size-1 axes when absent)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints, normalize_axes, optional


@FLOAT_OPS.register("Squeeze")
def squeeze(node, inputs, ctx):
    x = inputs[0]
    axes = as_ints(optional(inputs, 1))
    if axes is None:
        return [np.squeeze(x)]
    axes = normalize_axes(node, axes, x.ndim)
    bad = [a for a in axes if x.shape[a] != 1]
    if bad:
        raise ShapeError(f"node '{node.name}' (Squeeze): axes {bad} of {tuple(x.shape)} are not 1")
    return [np.squeeze(x, axis=tuple(axes))]
