"""Tile (TFLite TILE): repeats the raw integers ``repeats[i]`` times along axis ``i``.
Same scale in and out."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Tile")
def tile(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    repeats = const_input(ctx, node, 1, "repeats")
    if repeats is None or len(repeats) != x.ndim:
        raise unsupported(node, f"needs constant repeats with one entry per axis ({x.ndim})")
    return [np.tile(x, [int(r) for r in repeats])]
