"""GlobalAveragePool (ONNX GlobalAveragePool-1): mean over all spatial axes, kept as 1."""

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("GlobalAveragePool")
def global_average_pool(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    return [x.mean(axis=tuple(range(2, x.ndim)), keepdims=True, dtype=x.dtype)]
