"""Unsqueeze (TFLite EXPAND_DIMS / RESHAPE): inserts size-1 axes at the constant axes
(positions in the output). Same scale."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import axes_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Unsqueeze")
def unsqueeze(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    data = ctx.graph.const(node.inputs[1]) if len(node.inputs) > 1 else None
    if data is None:
        raise unsupported(node, "needs a constant axes input")
    axes = axes_input(ctx, node, 1, x.ndim + np.atleast_1d(data).size)
    return [np.expand_dims(x, axis=tuple(axes))]
