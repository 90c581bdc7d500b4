"""upsample_bilinear: separable linear interpolation of the last two axes;
``align_corners`` maps corner to corner, ``half_pixel_centers`` samples at
``(i + 0.5)/scale − 0.5`` (clamped at the border)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


def _coords(n_in, n_out, scale, align, half):
    i = np.arange(n_out, dtype=np.float64)
    if align and n_out > 1:
        src = i * (n_in - 1) / (n_out - 1)
    elif half:
        src = (i + 0.5) / scale - 0.5
    else:
        src = i / scale
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, src - lo


@OPS.register("upsample_bilinear")
def upsample_bilinear(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    sh = float(inputs.get("scale_factor_height", 1))
    sw = float(inputs.get("scale_factor_width", 1))
    align = bool(inputs.get("align_corners", False))
    half = bool(inputs.get("half_pixel_centers", not align))
    H, W = x.shape[-2:]
    lo, hi, t = _coords(H, int(H * sh), sh, align, half)
    x = x[..., lo, :] * (1 - t)[:, None] + x[..., hi, :] * t[:, None]
    lo, hi, t = _coords(W, int(W * sw), sw, align, half)
    return (x[..., lo] * (1 - t) + x[..., hi] * t).astype(np.float32)
