"""Transpose (TFLite TRANSPOSE): permutes raw integers by ``perm`` (default: reversed).
Same scale."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Transpose")
def transpose(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    perm = node.attrs.get("perm")
    return [np.ascontiguousarray(np.transpose(x, None if perm is None else [int(p) for p in perm]))]
