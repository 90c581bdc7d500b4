"""Elementwise binary ops with numpy broadcasting (MIL elementwise_binary, iOS15)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS

_MIL = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "real_div", "Max": "maximum",
        "Min": "minimum", "Pow": "pow"}


@LOWERINGS.register(*_MIL)
def lower_binary(ctx, node):
    operands = [n for n in node.inputs if n]
    if len(operands) > 2 and node.op_type in ("Max", "Min"):
        # ONNX Max/Min are variadic: a chain of binary maximum/minimum
        fn = getattr(ctx.mb, _MIL[node.op_type])
        acc = ctx.value(operands[0])
        for name in operands[1:]:
            acc = fn(x=acc, y=ctx.value(name))
        ctx.finish(node, acc)
        return
    if len(operands) != 2:
        raise ctx.unsupported(node, f"{len(operands)} operands; {node.op_type} takes two")
    a, b = ctx.value(operands[0]), ctx.value(operands[1])
    fn = getattr(ctx.mb, _MIL[node.op_type])
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        ref = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
               "Max": np.maximum, "Min": np.minimum, "Pow": np.power}[node.op_type]
        ctx.finish(node, ctx.mb.const(val=ref(a, b).astype(a.dtype)))
        return
    ctx.finish(node, fn(x=a, y=b))


@LOWERINGS.register("SquaredDifference")
def lower_squared_difference(ctx, node):
    d = ctx.mb.sub(x=ctx.value(node.inputs[0]), y=ctx.value(node.inputs[1]))
    ctx.finish(node, ctx.mb.mul(x=d, y=d))
