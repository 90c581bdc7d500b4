"""Resize (ONNX Resize-19), modes ``nearest`` and ``linear``; inputs ``X, roi, scales, sizes``
(either ``scales`` or ``sizes``), optional ``axes`` attribute.

Output size is ``sizes`` or ``floor(in * scale)``; the scale used for coordinate mapping is
``out / in`` when ``sizes`` is given. The resized coordinate ``x`` maps to the input by
``coordinate_transformation_mode`` (spec formulas): half_pixel ``(x + 0.5) / s - 0.5``,
pytorch_half_pixel (same, 0 when out is 1), align_corners ``x * (in - 1) / (out - 1)``,
asymmetric ``x / s``, tf_half_pixel_for_nn ``(x + 0.5) / s``, half_pixel_symmetric.
Nearest rounds by ``nearest_mode`` and clamps to ``[0, in - 1]``; linear interpolates
separably per axis with the source coordinate clamped to ``[0, in - 1]`` (as
onnxruntime's upsample kernels). Cubic, antialias and tf_crop_and_resize are not supported.
"""

import math

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import attr_str, normalize_axes, optional, require_float, unsupported


def _source_coords(node, mode: str, out: int, size: int, scale: float) -> np.ndarray:
    x = np.arange(out, dtype=np.float64)
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out > 1 else np.zeros(out)
    if mode == "align_corners":
        return x * (size - 1) / (out - 1) if out > 1 else np.zeros(out)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    if mode == "half_pixel_symmetric":
        adjustment = out / (scale * size)
        offset = size / 2 * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    raise unsupported(node, f"coordinate_transformation_mode={mode!r}")


def _nearest_index(node, coords: np.ndarray, rounding: str, size: int) -> np.ndarray:
    if rounding == "round_prefer_floor":
        idx = np.ceil(coords - 0.5)
    elif rounding == "round_prefer_ceil":
        idx = np.floor(coords + 0.5)
    elif rounding == "floor":
        idx = np.floor(coords)
    elif rounding == "ceil":
        idx = np.ceil(coords)
    else:
        raise unsupported(node, f"nearest_mode={rounding!r}")
    return np.clip(idx, 0, size - 1).astype(np.intp)


def _linear_axis(x: np.ndarray, axis: int, coords: np.ndarray) -> np.ndarray:
    size = x.shape[axis]
    c = np.clip(coords, 0, size - 1)
    lo = np.floor(c).astype(np.intp)
    hi = np.minimum(lo + 1, size - 1)
    w = (c - lo).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = -1
    w = w.reshape(shape)
    a = np.take(x, lo, axis=axis)
    b = np.take(x, hi, axis=axis)
    return a + (b - a) * w


@FLOAT_OPS.register("Resize")
def resize(node, inputs, ctx):
    x = inputs[0]
    require_float(node, x)
    scales, sizes = optional(inputs, 2), optional(inputs, 3)
    mode = attr_str(node, "mode", "nearest")
    coord_mode = attr_str(node, "coordinate_transformation_mode", "half_pixel")
    if mode not in ("nearest", "linear"):
        raise unsupported(node, f"mode={mode!r}")
    if node.attrs.get("antialias", 0):
        raise unsupported(node, "antialias=1")
    if attr_str(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        raise unsupported(node, "keep_aspect_ratio_policy other than 'stretch'")
    axes = node.attrs.get("axes")
    axes = list(range(x.ndim)) if axes is None else normalize_axes(node, axes, x.ndim)
    if sizes is not None and sizes.size:
        out = [int(v) for v in sizes.reshape(-1)]
        factors = [o / x.shape[a] for o, a in zip(out, axes)]
    elif scales is not None and scales.size:
        factors = [float(v) for v in scales.reshape(-1)]
        out = [math.floor(x.shape[a] * f) for a, f in zip(axes, factors)]
    else:
        raise ShapeError(f"node '{node.name}' (Resize): neither scales nor sizes is given")
    if len(out) != len(axes):
        raise ShapeError(f"node '{node.name}' (Resize): {len(out)} scales/sizes for {len(axes)} axes")
    y = x
    for axis, size_out, scale in zip(axes, out, factors):
        size = x.shape[axis]
        if size_out == size and scale == 1.0:
            continue
        coords = _source_coords(node, coord_mode, size_out, size, scale)
        if mode == "nearest":
            idx = _nearest_index(node, coords, attr_str(node, "nearest_mode", "round_prefer_floor"), size)
            y = np.take(y, idx, axis=axis)
        else:
            y = _linear_axis(y, axis, coords)
    return [y if y is not x else x.copy()]


def nearest_plan(node, shape, scales, sizes) -> list[tuple[int, np.ndarray]]:
    """``[(axis, source index per output position)]`` of a nearest Resize of a tensor of
    ``shape``, for every axis it changes (the integer kernels and emitters move data by
    exactly these indices)."""
    if attr_str(node, "mode", "nearest") != "nearest":
        raise unsupported(node, "nearest_plan needs mode='nearest'")
    coord_mode = attr_str(node, "coordinate_transformation_mode", "half_pixel")
    axes = node.attrs.get("axes")
    axes = list(range(len(shape))) if axes is None else normalize_axes(node, axes, len(shape))
    if sizes is not None and np.size(sizes):
        out = [int(v) for v in np.reshape(sizes, -1)]
        factors = [o / shape[a] for o, a in zip(out, axes)]
    elif scales is not None and np.size(scales):
        factors = [float(v) for v in np.reshape(scales, -1)]
        out = [math.floor(shape[a] * f) for a, f in zip(axes, factors)]
    else:
        raise ShapeError(f"node '{node.name}' (Resize): neither scales nor sizes is given")
    plan = []
    for axis, size_out, scale in zip(axes, out, factors):
        size = shape[axis]
        if size_out == size and scale == 1.0:
            continue
        coords = _source_coords(node, coord_mode, size_out, size, scale)
        plan.append((axis, _nearest_index(node, coords, attr_str(node, "nearest_mode",
                                                                   "round_prefer_floor"), size)))
    return plan
