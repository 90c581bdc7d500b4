"""Reduce* (ONNX ``axes`` input, ``keepdims``) -> MIL ``reduce_*``; ArgMax/ArgMin."""

from __future__ import annotations

from edgeq_coreml.emit.lowering import LOWERINGS

_MIL = {"ReduceMean": "reduce_mean", "ReduceMax": "reduce_max", "ReduceMin": "reduce_min",
        "ReduceSum": "reduce_sum"}


@LOWERINGS.register(*_MIL)
def lower_reduce(ctx, node):
    rank = len(ctx.ir(node.inputs[0]).shape)
    axes = ctx.ints(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else \
        node.attrs.get("axes")
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            ctx.set(node.outputs[0], ctx.mb.identity(x=ctx.value(node.inputs[0])))
            return
        axes = list(range(rank))
    axes = sorted({int(a) % rank for a in axes})
    y = getattr(ctx.mb, _MIL[node.op_type])(x=ctx.value(node.inputs[0]), axes=axes,
                                             keep_dims=bool(node.attrs.get("keepdims", 1)))
    ctx.finish(node, y)


@LOWERINGS.register("ArgMax", "ArgMin")
def lower_arg(ctx, node):
    fn = ctx.mb.reduce_argmax if node.op_type == "ArgMax" else ctx.mb.reduce_argmin
    y = fn(x=ctx.value(node.inputs[0]), axis=int(node.attrs.get("axis", 0)),
           keep_dims=bool(node.attrs.get("keepdims", 1)))
    ctx.set(node.outputs[0], y)
