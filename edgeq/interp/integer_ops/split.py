"""Split (TFLite SPLIT / SPLIT_V) along ``axis``: sizes from the constant ``split`` input,
or ``num_outputs``/the number of outputs equal parts (the last one smaller when uneven,
as ONNX Split-18 specifies). Same scale on every output."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Split")
def split(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    axis = int(node.attrs.get("axis", 0)) % x.ndim
    sizes = const_input(ctx, node, 1, "split sizes")
    n = len(node.outputs)
    if sizes is None:
        step = -(-x.shape[axis] // int(node.attrs.get("num_outputs", n)))
        sizes = [min(step, x.shape[axis] - i * step) for i in range(n)]
    sizes = [int(s) for s in np.atleast_1d(sizes)]
    if sum(sizes) != x.shape[axis] or len(sizes) != n:
        raise unsupported(node, f"split sizes {sizes} do not cover axis {axis} of {x.shape} "
                                f"with {n} outputs")
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)
