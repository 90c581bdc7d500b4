"""Slice (TFLite SLICE / STRIDED_SLICE): ONNX Slice with constant starts/ends/axes/steps
(out-of-range bounds clamp, negative steps allowed). Same scale."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Slice")
def slice_(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    starts = const_input(ctx, node, 1, "starts")
    ends = const_input(ctx, node, 2, "ends")
    if starts is None or ends is None:
        raise unsupported(node, "needs constant starts and ends")
    axes = const_input(ctx, node, 3, "axes")
    steps = const_input(ctx, node, 4, "steps")
    axes = range(len(starts)) if axes is None else [int(a) % x.ndim for a in axes]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    y = x
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st == 0:
            raise unsupported(node, "a slice step of 0 is invalid")
        # Python's slice.indices clamps like ONNX; index arrays avoid the -1 stop ambiguity
        y = np.take(y, np.arange(*slice(int(s), int(e), st).indices(x.shape[a])), axis=a)
    return [np.ascontiguousarray(y)]
