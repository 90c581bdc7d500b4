"""ReduceMax / ReduceMin / GlobalMaxPool (TFLite REDUCE_MAX / REDUCE_MIN).

kernels/reduce.cc ``EvalType``: for quantized int8/int16 the input and output scale and
zero point must be equal, and the extremum of the raw values is taken (``init`` is the
type's lowest/highest value). GlobalMaxPool is REDUCE_MAX over the spatial axes with
``keepdims``.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import axes_input, require_int
from edgeq.interp.integer_ops._same_scale import check_same_scale


def _axes(ctx, node, x):
    axes = axes_input(ctx, node, 1, x.ndim)
    if axes is None and node.attrs.get("axes") is not None:
        axes = sorted(int(a) % x.ndim for a in node.attrs["axes"])
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            return ()
        return tuple(range(x.ndim))
    return tuple(axes)


def _reduce(node, inputs, ctx, fn):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    axes = _axes(ctx, node, x)
    if not axes:
        return [x]
    return [fn(x, axis=axes, keepdims=bool(node.attrs.get("keepdims", 1)))]


@INTEGER_OPS.register("ReduceMax")
def reduce_max(node, inputs, ctx):
    return _reduce(node, inputs, ctx, np.max)


@INTEGER_OPS.register("ReduceMin")
def reduce_min(node, inputs, ctx):
    return _reduce(node, inputs, ctx, np.min)


@INTEGER_OPS.register("GlobalMaxPool")
def global_max_pool(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    return [np.max(x, axis=tuple(range(2, x.ndim)), keepdims=True)]
