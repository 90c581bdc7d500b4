"""Expand (TFLite BROADCAST_TO): numpy broadcasting of raw integers to the constant shape
(ONNX Expand: the result shape is the broadcast of both). Same scale in and out."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Expand")
def expand(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    shape = const_input(ctx, node, 1, "the shape")
    if shape is None:
        raise unsupported(node, "needs a constant shape input")
    target = np.broadcast_shapes(x.shape, tuple(int(d) for d in shape))
    return [np.ascontiguousarray(np.broadcast_to(x, target))]
