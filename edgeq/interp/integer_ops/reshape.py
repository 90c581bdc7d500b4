"""Reshape (TFLite RESHAPE): raw integers keep their order; ONNX shape rules (``0`` copies
the input dim unless ``allowzero``, ``-1`` is inferred). Same scale in and out."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Reshape")
def reshape(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    shape = const_input(ctx, node, 1, "the target shape")
    if shape is None:
        raise unsupported(node, "needs a shape input")
    dims = [int(d) for d in shape]
    if not node.attrs.get("allowzero", 0):
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return [x.reshape(dims)]
