"""Helpers shared by float kernels: dtype checks, attribute/input decoding, axes.

Kernels follow the ONNX operator specification (https://onnx.ai/onnx/operators/) in the
newest-opset *input* form documented in :mod:`edgeq.ir.graph`. Errors name the node, the
op type and what was found (see :func:`edgeq.interp.registry.dtype_error`).
"""

from __future__ import annotations

import numpy as np

from edgeq.errors import ShapeError, UnsupportedOpError
from edgeq.interp.registry import dtype_error


def apply_fused_clamp(node, y: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Apply the fused activation clamp ``act_min``/``act_max`` if the node has one.

    ``inplace=True`` clamps ``y`` in place (only for arrays the caller owns).
    """
    lo = node.attrs.get("act_min")
    hi = node.attrs.get("act_max")
    if lo is None and hi is None:
        return y
    lo = -np.inf if lo is None else lo
    hi = np.inf if hi is None else hi
    if inplace:
        np.clip(y, lo, hi, out=y)
        return y
    return np.clip(y, lo, hi).astype(y.dtype, copy=False)


def require_float(node, *arrays: np.ndarray | None) -> None:
    """Raise naming the op and dtypes unless every given array is a float tensor."""
    present = [a for a in arrays if a is not None]
    if not all(a.dtype.kind == "f" for a in present):
        raise dtype_error(node, "expects float tensors", list(arrays))


def require_same_dtype(node, *arrays: np.ndarray) -> None:
    """Raise naming the op and dtypes unless all arrays share one dtype (ONNX type T)."""
    if len({a.dtype for a in arrays}) > 1:
        raise dtype_error(node, "expects inputs of one dtype (ONNX type constraint T)", list(arrays))


def as_ints(arr: np.ndarray | None) -> list[int] | None:
    """A 0-D/1-D integer input (axes, pads, shape…) as a list of Python ints."""
    if arr is None:
        return None
    return [int(v) for v in np.asarray(arr).reshape(-1)]


def optional(inputs: list, i: int):
    """Input ``i`` or ``None`` if it is omitted (``""`` in the IR) or absent."""
    return inputs[i] if len(inputs) > i else None


def normalize_axis(node, axis: int, rank: int) -> int:
    """Map a possibly negative axis into ``[0, rank)``; raise ShapeError naming the node."""
    if not -rank <= axis < rank:
        raise ShapeError(f"node '{node.name}' ({node.op_type}): axis {axis} is out of range "
                         f"for a rank-{rank} tensor")
    return axis + rank if axis < 0 else axis


def normalize_axes(node, axes, rank: int) -> list[int]:
    return [normalize_axis(node, int(a), rank) for a in axes]


def attr_str(node, key: str, default: str) -> str:
    """A string attribute (the IR may hold ``bytes`` as ONNX does)."""
    value = node.attrs.get(key, default)
    return value.decode() if isinstance(value, bytes) else str(value)


def unsupported(node, what: str) -> UnsupportedOpError:
    """An UnsupportedOpError for an unsupported configuration of a supported op."""
    return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {what} is not supported "
                              f"by the edgeq float interpreter", op_type=node.op_type,
                              nodes=[node.name])


def unary_float(node, inputs, fn) -> list[np.ndarray]:
    """Shared body of elementwise float ops: check dtype, apply ``fn``, keep the dtype."""
    (x,) = inputs[:1]
    require_float(node, x)
    return [np.asarray(fn(x)).astype(x.dtype, copy=False)]


def binary_same_type(node, inputs, fn) -> list[np.ndarray]:
    """Shared body of broadcasting binary ops whose inputs share one type (ONNX T)."""
    a, b = inputs[0], inputs[1]
    require_same_dtype(node, a, b)
    return [np.asarray(fn(a, b)).astype(a.dtype, copy=False)]
