"""Unsqueeze (ONNX Unsqueeze-13): insert size-1 axes at the positions in ``axes``
(an input), interpreted in the output rank."""

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints, normalize_axes


@FLOAT_OPS.register("Unsqueeze")
def unsqueeze(node, inputs, ctx):
    x, axes = inputs
    rank = x.ndim + axes.size
    axes = sorted(normalize_axes(node, as_ints(axes), rank))
    if len(set(axes)) != len(axes):
        raise ShapeError(f"node '{node.name}' (Unsqueeze): repeated axes {axes}")
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return [x.reshape(shape)]
