"""Resize, mode ``nearest`` (TFLite RESIZE_NEAREST_NEIGHBOR): output position ``o``
copies input position ``idx[o]`` on each resized axis. The kernel moves int8/int16
values without rescaling, so input and output share scale and zero point.

The indices are those of the ONNX node (``float_ops.resize.nearest_plan``); the TFLite
emitter only emits RESIZE_NEAREST_NEIGHBOR when the builtin's own index rule
(``GetNearestNeighbor``, kernels/internal/reference/resize_nearest_neighbor.h) gives the
same ones, so both agree by construction. Linear Resize has no integer kernel here.
"""

import numpy as np

from edgeq.interp.float_ops._common import attr_str
from edgeq.interp.float_ops.resize import nearest_plan
from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import prepared, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Resize")
def resize(node, inputs, ctx):
    x = inputs[0]
    if attr_str(node, "mode", "nearest") != "nearest":
        raise unsupported(node, "only nearest Resize has an integer kernel")
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    scales = inputs[2] if len(inputs) > 2 else None
    sizes = inputs[3] if len(inputs) > 3 else None
    plan = prepared(ctx, node, lambda: nearest_plan(node, x.shape, scales, sizes))
    y = x
    for axis, idx in plan:
        y = np.take(y, idx, axis=axis)
    return [y if y is not x else x.copy()]
