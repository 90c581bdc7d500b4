"""Reshape (ONNX Reshape-14): ``shape`` input; ``0`` copies the input dim (unless
``allowzero=1``), ``-1`` is inferred."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints


def onnx_reshape_target(node, in_shape, shape, allowzero: bool) -> tuple[int, ...]:
    """Resolve ONNX Reshape's 0 and -1 entries against ``in_shape``."""
    out = [in_shape[i] if (d == 0 and not allowzero) else d for i, d in enumerate(shape)]
    if out.count(-1) > 1:
        raise ShapeError(f"node '{node.name}' ({node.op_type}): shape {shape} has more than one -1")
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        total = int(np.prod(in_shape))
        if known == 0 or total % known:
            raise ShapeError(f"node '{node.name}' ({node.op_type}): cannot reshape "
                             f"{tuple(in_shape)} to {shape}")
        out[out.index(-1)] = total // known
    if int(np.prod(out)) != int(np.prod(in_shape)):
        raise ShapeError(f"node '{node.name}' ({node.op_type}): cannot reshape "
                         f"{tuple(in_shape)} ({int(np.prod(in_shape))} elements) to {shape}")
    return tuple(out)


@FLOAT_OPS.register("Reshape")
def reshape(node, inputs, ctx):
    x, shape = inputs
    target = onnx_reshape_target(node, x.shape, as_ints(shape), bool(node.attrs.get("allowzero", 0)))
    return [x.reshape(target)]
