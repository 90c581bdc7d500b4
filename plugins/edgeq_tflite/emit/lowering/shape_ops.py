"""Data movement: Reshape/Flatten/Squeeze/Unsqueeze -> RESHAPE, Transpose -> TRANSPOSE,
Concat -> CONCATENATION, Expand -> BROADCAST_TO, Tile -> TILE
(tensorflow/lite/kernels/reshape.cc, transpose.cc, concatenation.cc, broadcast_to.cc,
tile.cc).

Shapes are static in the IR, so RESHAPE takes the output tensor's shape as its int32
shape input. These kernels copy integers: input and output share quantization
(CONCATENATION would rescale differing inputs; edgeq's TFLite spec keeps them equal).
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import fused, opts, require_same_quant, reshape
from edgeq_tflite.emit.schema import BuiltinOperator as B


@register("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def lower_reshape(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "RESHAPE")
    reshape(ctx, x, y.shape, out=y)


@register("Transpose")
def lower_transpose(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "TRANSPOSE")
    perm = node.attrs.get("perm", list(range(len(x.shape) - 1, -1, -1)))
    if len(x.shape) > 6:
        raise ctx.unsupported(node, "TRANSPOSE supports at most 6 dimensions")
    ctx.op(B.TRANSPOSE, [x, ctx.int32_vector(f"{node.name}_perm", perm)], [y], opts("TransposeOptions"))


@register("Concat")
def lower_concat(ctx, node) -> None:
    ins = [ctx.tensor(i) for i in node.inputs if i]
    y, act, finish = fused(ctx, node, node.outputs[0])
    axis = int(node.attrs.get("axis", 0)) % len(y.shape)
    ins = [t for t in ins if 0 not in t.shape]  # ONNX allows empty inputs; TFLite does not
    if len(ins) == 1:
        reshape(ctx, ins[0], y.shape, out=y)
    else:
        ctx.op(B.CONCATENATION, ins, [y], opts("ConcatenationOptions", axis=axis,
                                               fusedActivationFunction=act))
    finish()


@register("Expand")
def lower_expand(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "BROADCAST_TO")
    shape = ctx.int32_vector(f"{node.name}_shape", y.shape)
    ctx.op(B.BROADCAST_TO, [x, shape], [y])


@register("Tile")
def lower_tile(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    reps = ctx.const(node.inputs[1])
    if reps is None:
        raise ctx.unsupported(node, "Tile repeats must be constant")
    if x.quant is not None:
        require_same_quant(ctx, node, x, y, "TILE")
        if x.dtype not in (np.int8, np.int16):
            raise ctx.unsupported(node, f"TFLite TILE has no {x.dtype} kernel")
    ctx.op(B.TILE, [x, ctx.int32_vector(f"{node.name}_multiples", reps)], [y])
