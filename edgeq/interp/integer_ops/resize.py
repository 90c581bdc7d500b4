"""Resize, mode ``nearest`` (TFLite RESIZE_NEAREST_NEIGHBOR): output position ``o``
copies input position ``idx[o]`` on each resized axis. The kernel moves int8/int16
values without rescaling, so input and output share scale and zero point.

The indices are those of the ONNX node (``float_ops.resize.nearest_plan``); the TFLite
emitter only emits RESIZE_NEAREST_NEIGHBOR when the builtin's own index rule
(``GetNearestNeighbor``, kernels/internal/reference/resize_nearest_neighbor.h) gives the
same ones, so both agree by construction. Linear Resize of H and W is
RESIZE_BILINEAR's arithmetic (resize_bilinear.py).
"""

import numpy as np

from edgeq.interp.float_ops._common import attr_str
from edgeq.interp.float_ops.resize import nearest_plan
from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import prepared, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale
from edgeq.interp.integer_ops.resize_bilinear import resize_bilinear


@INTEGER_OPS.register("Resize")
def resize(node, inputs, ctx):
    x = inputs[0]
    mode = attr_str(node, "mode", "nearest")
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    if mode == "linear":
        out = ctx.graph.tensors[node.outputs[0]].shape
        if x.ndim != 4 or tuple(out[:2]) != x.shape[:2]:
            raise unsupported(node, "linear Resize has an integer kernel for H and W of 4-D tensors only")
        if x.dtype != np.int8:
            raise unsupported(node, "linear Resize has an int8 kernel only", [x])
        return [resize_bilinear(node, x, out[2:])]
    if mode != "nearest":
        raise unsupported(node, f"Resize mode '{mode}' has no integer kernel")
    scales = inputs[2] if len(inputs) > 2 else None
    sizes = inputs[3] if len(inputs) > 3 else None
    plan = prepared(ctx, node, lambda: nearest_plan(node, x.shape, scales, sizes))
    y = x
    for axis, idx in plan:
        y = np.take(y, idx, axis=axis)
    return [y if y is not x else x.copy()]
