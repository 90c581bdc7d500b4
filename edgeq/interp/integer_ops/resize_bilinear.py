"""Linear Resize of H and W (TFLite RESIZE_BILINEAR), int8, same quantization in and out.

Arithmetic of ``reference_ops::ResizeBilinearInteger``
(kernels/internal/reference/resize_bilinear.h), on the stored integers:

* per axis a 10-bit fixed-point scale ``s10 = (1024·in + out/2) / out`` (align_corners:
  ``(1024·(in-1) + (out-1)/2) / (out-1)``), C integer division;
* output index ``o`` maps to ``v = o·s10`` (half-pixel centers: ``o·s10 + s10/2 - 512``),
  taps ``i0 = max(v / 1024, 0)`` (C division truncates toward 0) and
  ``i1 = min((v + 1023) / 1024, in - 1)``, weights ``1024 - (v - 1024·i0)`` and
  ``v - 1024·i0``;
* the four products summed in int64 (weights in units of 2^-20), then
  ``(acc ± 2^19) / 2^20`` with the sign of ``acc`` and truncation (the double-rounding
  build, ``TFLITE_SINGLE_ROUNDING`` off).

The ONNX modes map to the builtin's flags by :func:`tflite_flags`; other modes have no
integer kernel (``build._config_problem`` keeps them out of integer).
"""

import numpy as np

from edgeq.interp.float_ops._common import attr_str
from edgeq.interp.integer_ops._common import unsupported

#: ONNX coordinate_transformation_mode -> (align_corners, half_pixel_centers)
LINEAR_MODES = {"asymmetric": (False, False), "half_pixel": (False, True),
                "pytorch_half_pixel": (False, True), "align_corners": (True, False)}


def tflite_flags(node) -> tuple[bool, bool] | None:
    """``(align_corners, half_pixel_centers)`` of a linear Resize, or None."""
    return LINEAR_MODES.get(attr_str(node, "coordinate_transformation_mode", "half_pixel"))


def _axis_plan(size_in: int, size_out: int, align: bool, half: bool):
    if align and size_out > 1:
        s10 = ((1 << 10) * (size_in - 1) + (size_out - 1) // 2) // (size_out - 1)
    else:
        s10 = ((1 << 10) * size_in + size_out // 2) // size_out
    o = np.arange(size_out, dtype=np.int64)
    v = o * s10 + (s10 // 2 - (1 << 9) if half else 0)
    lo = np.maximum(np.trunc(v / 1024).astype(np.int64), 0)
    hi = np.minimum((v + 1023) // 1024, size_in - 1)  # v + 1023 > 0: floor == trunc
    frac = v - 1024 * lo
    return lo, hi, 1024 - frac, frac


def resize_bilinear(node, x: np.ndarray, out_hw) -> np.ndarray:
    """``x`` [N, C, H, W] (stored integers) resized to ``out_hw`` as the kernel does."""
    flags = tflite_flags(node)
    if flags is None:
        raise unsupported(node, "linear Resize with this coordinate_transformation_mode has no "
                                "integer kernel")
    align, half = flags
    y0, y1, wy0, wy1 = _axis_plan(x.shape[2], out_hw[0], align, half)
    x0, x1, wx0, wx1 = _axis_plan(x.shape[3], out_hw[1], align, half)
    v = x.astype(np.int64)
    rows0, rows1 = v[:, :, y0, :], v[:, :, y1, :]
    acc = (rows0[..., x0] * (wy0[:, None] * wx0[None, :]) + rows0[..., x1] * (wy0[:, None] * wx1[None, :])
           + rows1[..., x0] * (wy1[:, None] * wx0[None, :]) + rows1[..., x1] * (wy1[:, None] * wx1[None, :]))
    rounded = acc + np.where(acc > 0, 1 << 19, -(1 << 19))
    q = np.trunc(rounded / float(1 << 20)).astype(np.int64)  # exact: |rounded| < 2^53
    info = np.iinfo(x.dtype)
    return np.clip(q, info.min, info.max).astype(x.dtype)
