"""Elementwise binary ops with numpy broadcasting (tensorflow/lite/kernels/add.cc, sub.cc,
mul.cc, squared_difference.cc, maximum_minimum.cc, div.cc, pow.cc).

ADD/SUB are written with ``pot_scale_int16 = false``: the schema's default (true)
selects the 16-bit kernel that only handles power-of-two scales, while edgeq's int16
scales are arbitrary (version 3 for ADD, 5 for SUB, as op_version.cc says).
MAXIMUM/MINIMUM compare raw integers, so their operands must share quantization.
"""

from __future__ import annotations

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, fused, opts, require_dtypes,
                                                require_same_quant, unfused)
from edgeq_tflite.emit.schema import BuiltinOperator as B

_INT8 = ("int8",)


def _operands(ctx, node, builtin_name, allowed=INT_ACTIVATIONS):
    ins = [ctx.tensor(i) for i in node.inputs]
    for t in ins:
        if t.quant is not None:
            require_dtypes(ctx, node, t, allowed, builtin_name)
            if t.quant.scale.size > 1:
                raise ctx.unsupported(node, f"{builtin_name} needs per-tensor quantization; "
                                            f"'{t.name}' is per-channel")
    return ins


@register("Add", "Sub", "Mul")
def lower_add_sub_mul(ctx, node) -> None:
    builtin, name = {"Add": (B.ADD, "AddOptions"), "Sub": (B.SUB, "SubOptions"),
                     "Mul": (B.MUL, "MulOptions")}[node.op_type]
    a, b = _operands(ctx, node, name[:-7].upper())
    y, act, finish = fused(ctx, node, node.outputs[0])
    o = opts(name, fusedActivationFunction=act)
    if node.op_type != "Mul":
        o.potScaleInt16 = False
    ctx.op(builtin, [a, b], [y], o)
    finish()


@register("SquaredDifference")
def lower_squared_difference(ctx, node) -> None:
    a, b = _operands(ctx, node, "SQUARED_DIFFERENCE", allowed=_INT8)
    y, finish = unfused(ctx, node, node.outputs[0])
    ctx.op(B.SQUARED_DIFFERENCE, [a, b], [y], opts("SquaredDifferenceOptions"))
    finish()


@register("Max", "Min")
def lower_max_min(ctx, node) -> None:
    builtin = B.MAXIMUM if node.op_type == "Max" else B.MINIMUM
    label = "MAXIMUM" if node.op_type == "Max" else "MINIMUM"
    ins = _operands(ctx, node, label)
    y, finish = unfused(ctx, node, node.outputs[0])
    for t in ins:
        if y.quant is not None or t.quant is not None:
            require_same_quant(ctx, node, t, y, label)
    if len(ins) == 1:
        raise ctx.unsupported(node, f"{node.op_type} with a single input is an identity; "
                                    "canonicalize the graph first")
    cur = ins[0]
    for k, t in enumerate(ins[1:]):
        last = k == len(ins) - 2
        dst = y if last else ctx.new(f"{y.name}_{k}", y.dtype, y.shape, y.quant)
        ctx.op(builtin, [cur, t], [dst])
        cur = dst
    finish()


@register("Div", "Pow")
def lower_float_binary(ctx, node) -> None:
    a, b = (ctx.tensor(i) for i in node.inputs[:2])
    if a.quant is not None or b.quant is not None:
        raise ctx.unsupported(node, f"TFLite has no int8/int16 {node.op_type.upper()} kernel; "
                                    "let this node fall back to float or rewrite it")
    if node.op_type == "Div":
        y, act, finish = fused(ctx, node, node.outputs[0])
        ctx.op(B.DIV, [a, b], [y], opts("DivOptions", fusedActivationFunction=act))
    else:
        y, finish = unfused(ctx, node, node.outputs[0])
        ctx.op(B.POW, [a, b], [y], opts("PowOptions"))
    finish()
