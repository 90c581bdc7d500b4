"""Max / Min (TFLite MAXIMUM / MINIMUM): elementwise extremum of raw integers with numpy
broadcasting (reference/maximum_minimum.h); every input shares the output's scale and
zero point, as the kernel compares raw values. ONNX Max/Min are variadic."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._same_scale import check_same_scale


def _reduce(node, inputs, ctx, fn):
    arrays = [a for a in inputs if a is not None]
    check_same_scale(ctx, node, arrays[0], list(node.outputs) + [n for n in node.inputs if n], [])
    out = arrays[0]
    for a in arrays[1:]:
        out = fn(out, a)
    return [out]


@INTEGER_OPS.register("Max")
def maximum(node, inputs, ctx):
    return _reduce(node, inputs, ctx, np.maximum)


@INTEGER_OPS.register("Min")
def minimum(node, inputs, ctx):
    return _reduce(node, inputs, ctx, np.minimum)
