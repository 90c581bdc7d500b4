"""GlobalMaxPool (ONNX GlobalMaxPool-1): max over all spatial axes, kept as 1."""

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("GlobalMaxPool")
def global_max_pool(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    return [x.max(axis=tuple(range(2, x.ndim)), keepdims=True)]
