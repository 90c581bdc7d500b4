"""Max (ONNX Max-13): elementwise maximum of one or more inputs with broadcasting; NaN
propagates (numpy's ``maximum``)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_same_dtype


@FLOAT_OPS.register("Max")
def max_(node, inputs, ctx):
    arrays = [a for a in inputs if a is not None]
    require_same_dtype(node, *arrays)
    out = np.array(arrays[0])
    for a in arrays[1:]:
        out = np.maximum(out, a)
    return [out]
