"""ReduceMean/ReduceMax/ReduceMin/ReduceSum -> MEAN/REDUCE_MAX/REDUCE_MIN/SUM,
ArgMax/ArgMin -> ARG_MAX/ARG_MIN (tensorflow/lite/kernels/reduce.cc, arg_min_max.cc).

MEAN and SUM requantize from the input to the output scale (int8, and int16 for
MEAN); REDUCE_MAX/REDUCE_MIN return one of their inputs, so they need equal
quantization in and out.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, opts, require_dtypes,
                                                require_same_quant, reshape, unfused)
from edgeq_tflite.emit.schema import BuiltinOperator as B

_REDUCE = {"ReduceMean": (B.MEAN, "MEAN", INT_ACTIVATIONS),
           "ReduceMax": (B.REDUCE_MAX, "REDUCE_MAX", INT_ACTIVATIONS),
           "ReduceMin": (B.REDUCE_MIN, "REDUCE_MIN", INT_ACTIVATIONS),
           "ReduceSum": (B.SUM, "SUM", (np.int8,))}


def reduce_axes(ctx, node, rank: int) -> list[int] | None:
    """Normalised reduction axes; None for a no-op (``noop_with_empty_axes``)."""
    if len(node.inputs) > 1 and node.inputs[1]:
        raw = ctx.const(node.inputs[1])
        if raw is None:
            raise ctx.unsupported(node, "reduction axes must be constant")
    else:
        raw = node.attrs.get("axes")
    axes = [] if raw is None else [int(a) % rank for a in np.atleast_1d(raw)]
    if not axes:
        return None if int(node.attrs.get("noop_with_empty_axes", 0)) else list(range(rank))
    return sorted(set(axes))


@register(*_REDUCE)
def lower_reduce(ctx, node) -> None:
    builtin, label, allowed = _REDUCE[node.op_type]
    x = ctx.tensor(node.inputs[0])
    y, finish = unfused(ctx, node, node.outputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, allowed, label)
        if builtin in (B.REDUCE_MAX, B.REDUCE_MIN):
            require_same_quant(ctx, node, x, y, label)
    axes = reduce_axes(ctx, node, len(x.shape))
    if axes is None:
        reshape(ctx, x, y.shape, out=y)
        finish()
        return
    keep = bool(int(node.attrs.get("keepdims", 1)))
    ax = ctx.int32_vector(f"{node.name}_axes", axes)
    ctx.op(builtin, [x, ax], [y], opts("ReducerOptions", keepDims=keep))
    finish()


@register("ArgMax", "ArgMin")
def lower_arg(ctx, node) -> None:
    is_max = node.op_type == "ArgMax"
    x = ctx.tensor(node.inputs[0])
    out = ctx.tensor(node.outputs[0])
    if int(node.attrs.get("select_last_index", 0)):
        raise ctx.unsupported(node, "select_last_index=1 has no TFLite equivalent")
    axis = int(node.attrs.get("axis", 0)) % len(x.shape)
    keep = bool(int(node.attrs.get("keepdims", 1)))
    reduced = tuple(d for i, d in enumerate(x.shape) if i != axis)
    y = ctx.new(f"{out.name}_flat", out.dtype, reduced) if keep else out
    a = ctx.constant(f"{node.name}_axis", np.array([axis], np.int32))
    from edgeq_tflite.emit.writer import tflite_type

    if is_max:
        ctx.op(B.ARG_MAX, [x, a], [y], opts("ArgMaxOptions", outputType=tflite_type(out.dtype)))
    else:
        ctx.op(B.ARG_MIN, [x, a], [y], opts("ArgMinOptions", outputType=tflite_type(out.dtype)))
    if keep:
        reshape(ctx, y, out.shape, out=out)
