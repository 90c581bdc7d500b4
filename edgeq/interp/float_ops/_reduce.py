"""Shared axis handling of the Reduce* ops (ONNX Reduce*-18 input form).

``axes`` is an optional int64 input. Absent or empty means all axes, unless
``noop_with_empty_axes=1``, in which case the input is returned unchanged.
``keepdims`` (default 1) keeps reduced axes as size 1.
"""

import numpy as np

from edgeq.interp.float_ops._common import as_ints, normalize_axes, optional
from edgeq.interp.registry import dtype_error


def reduce(node, inputs, fn, *, float_only: bool = False):
    """Apply ``fn(x, axis=tuple, keepdims=bool)`` following the ONNX Reduce contract."""
    x = inputs[0]
    if x.dtype.kind not in ("f" if float_only else "fiu"):
        raise dtype_error(node, "expects a float tensor" if float_only else "expects a numeric tensor", [x])
    axes = as_ints(optional(inputs, 1))
    keepdims = bool(node.attrs.get("keepdims", 1))
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            return [x]
        axes = list(range(x.ndim))
    axes = tuple(sorted(set(normalize_axes(node, axes, x.ndim))))
    return [np.asarray(fn(x, axis=axes, keepdims=keepdims)).astype(x.dtype, copy=False)]
