"""Cast (ONNX Cast-19): convert to the element type ``to`` (an ONNX TensorProto data type
number, a numpy dtype or its name). Float to integer truncates toward zero (C++
``static_cast``, as onnxruntime); anything to bool is ``!= 0``."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unsupported


def target_dtype(node, to) -> np.dtype:
    """Decode the ``to`` attribute."""
    if isinstance(to, (int, np.integer)):
        from onnx import helper

        try:
            return np.dtype(helper.tensor_dtype_to_np_dtype(int(to)))
        except (KeyError, TypeError):
            raise unsupported(node, f"cast to ONNX data type {to}") from None
    try:
        return np.dtype(to)
    except TypeError:
        raise unsupported(node, f"cast to {to!r}") from None


@FLOAT_OPS.register("Cast")
def cast(node, inputs, ctx):
    (x,) = inputs
    dt = target_dtype(node, node.attrs["to"])
    if dt.kind not in "fiub" or x.dtype.kind not in "fiub":
        raise unsupported(node, f"cast from {x.dtype} to {dt}")
    if dt.kind == "b":
        return [x != 0]
    return [x.astype(dt)]
