"""Data movement: Reshape / Flatten / Squeeze / Unsqueeze (``reshape`` to the IR's static
output shape), Transpose, Concat, Expand and Tile (``tile``)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def lower_reshape(ctx, node):
    shape = [int(d) for d in ctx.ir(node.outputs[0]).shape]
    x = ctx.value(node.inputs[0])
    if isinstance(x, np.ndarray):
        ctx.set(node.outputs[0], x.reshape(shape))
        return
    ctx.set(node.outputs[0], ctx.mb.reshape(x=x, shape=np.asarray(shape, np.int32)))


@LOWERINGS.register("Transpose")
def lower_transpose(ctx, node):
    rank = len(ctx.ir(node.inputs[0]).shape)
    perm = [int(p) for p in node.attrs.get("perm", list(range(rank))[::-1])]
    x = ctx.value(node.inputs[0])
    if isinstance(x, np.ndarray):
        ctx.set(node.outputs[0], np.transpose(x, perm))
        return
    ctx.set(node.outputs[0], ctx.mb.transpose(x=x, perm=perm))


@LOWERINGS.register("Concat")
def lower_concat(ctx, node):
    values = [ctx.value(n) for n in node.inputs if n]
    axis = int(node.attrs.get("axis", 0))
    ctx.finish(node, ctx.mb.concat(values=values, axis=axis))


@LOWERINGS.register("Expand", "Tile")
def lower_tile(ctx, node):
    src = [int(d) for d in ctx.ir(node.inputs[0]).shape]
    out = [int(d) for d in ctx.ir(node.outputs[0]).shape]
    x = ctx.value(node.inputs[0])
    src = [1] * (len(out) - len(src)) + src
    if isinstance(x, np.ndarray):
        ctx.set(node.outputs[0], np.broadcast_to(x.reshape(src), out).copy() if node.op_type == "Expand"
                else np.tile(x.reshape(src), [o // s for o, s in zip(out, src)]))
        return
    if len(src) != len(ctx.ir(node.inputs[0]).shape):
        x = ctx.mb.reshape(x=x, shape=np.asarray(src, np.int32))
    reps = [o // s for o, s in zip(out, src)]
    ctx.set(node.outputs[0], ctx.mb.tile(x=x, reps=reps) if any(r != 1 for r in reps)
            else ctx.mb.identity(x=x))
