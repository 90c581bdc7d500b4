"""Concat (TFLite CONCATENATION) along ``axis``.

TFLite's int8 kernel copies raw values and its Prepare requires every input to share the
output's scale and zero point (kernels/concatenation.cc: "no re-scaling needed for Int8
quantized kernel"); int16 requires zero points of 0 and also copies. The simulator checks
that every input carries the output's QuantParams, so a quantized graph that would need a
rescale must requantize the odd input with an explicit Quantize node.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Concat")
def concat(node, inputs, ctx):
    arrays = [a for a in inputs if a is not None]
    names = [n for n in node.inputs if n]
    check_same_scale(ctx, node, arrays[0], list(node.outputs) + names, [])
    return [np.concatenate(arrays, axis=int(node.attrs.get("axis", 0)))]
