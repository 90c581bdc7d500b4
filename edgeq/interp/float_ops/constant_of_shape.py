"""ConstantOfShape (ONNX ConstantOfShape-20): a tensor of shape ``input`` filled with the
one-element ``value`` attribute (default float32 0). The IR holds ``value`` as a numpy
array; a bare Python float/int is read as float32/int64 (ONNX's defaults)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints


def _fill_value(value) -> np.ndarray:
    if value is None:
        return np.zeros((), np.float32)
    if isinstance(value, np.ndarray):
        return value.reshape(-1)[0]
    if isinstance(value, bool):
        return np.bool_(value)
    return np.int64(value) if isinstance(value, int) else np.float32(value)


@FLOAT_OPS.register("ConstantOfShape")
def constant_of_shape(node, inputs, ctx):
    (shape,) = inputs
    fill = _fill_value(node.attrs.get("value"))
    return [np.full(as_ints(shape), fill, dtype=fill.dtype)]
