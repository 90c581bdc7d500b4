"""FullyConnected (``W[out, in]`` over the last axis) -> MIL ``linear``; MatMul of two
activations -> ``matmul`` (attention scores and context)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("FullyConnected")
def lower_fully_connected(ctx, node):
    x = ctx.value(node.inputs[0])
    if ctx.ir(node.inputs[1]).data is None:
        raise ctx.unsupported(node, "the weight is not a constant; express it as MatMul")
    w = ctx.weight(node.inputs[1], axis=0)
    kw = {}
    if len(node.inputs) > 2 and node.inputs[2]:
        kw["bias"] = ctx.real_const(node.inputs[2]).astype(np.float32).reshape(-1)
    ctx.finish(node, ctx.mb.linear(x=x, weight=w, **kw))


@LOWERINGS.register("MatMul")
def lower_matmul(ctx, node):
    a, b = (ctx.value(n) for n in node.inputs[:2])
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        ctx.finish(node, ctx.mb.const(val=(a @ b).astype(np.float32)))
        return
    ctx.finish(node, ctx.mb.matmul(x=a, y=b))
