"""Flatten (TFLite RESHAPE): ``[prod(dims[:axis]), prod(dims[axis:])]``. Same scale."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Flatten")
def flatten(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    axis = int(node.attrs.get("axis", 1))
    axis = axis + x.ndim if axis < 0 else axis
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return [x.reshape(lead, -1)]
