"""Identity: the raw integers unchanged (TFLite drops it, or keeps a RESHAPE to the same
shape). Same scale in and out."""

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Identity")
def identity(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    return [x]
