"""Range (ONNX Range-11): ``start + i * delta`` for ``i < max(ceil((limit - start) / delta), 0)``
in the dtype of ``start``."""

import math

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS


@FLOAT_OPS.register("Range")
def range_(node, inputs, ctx):
    start, limit, delta = (np.asarray(a).reshape(()) for a in inputs)
    if float(delta) == 0:
        raise ShapeError(f"node '{node.name}' (Range): delta is 0")
    count = max(math.ceil((float(limit) - float(start)) / float(delta)), 0)
    return [(start + np.arange(count, dtype=start.dtype) * delta).astype(start.dtype)]
