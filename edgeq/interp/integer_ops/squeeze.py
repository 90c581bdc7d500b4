"""Squeeze (TFLite SQUEEZE / RESHAPE): removes the size-1 axes given by the constant axes
input (all size-1 axes when omitted). Same scale."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import axes_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Squeeze")
def squeeze(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    axes = axes_input(ctx, node, 1, x.ndim)
    if axes is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    if any(x.shape[a] != 1 for a in axes):
        raise unsupported(node, f"cannot squeeze axes {axes} of shape {x.shape}")
    return [np.squeeze(x, axis=tuple(axes))]
