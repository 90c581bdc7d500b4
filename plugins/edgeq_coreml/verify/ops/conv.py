"""conv (iOS15/17): NCHW (N-d spatial) cross-correlation, weight ``[O, I/groups, *k]``,
``pad_type`` valid / same / custom (``pad`` = begin, end per spatial axis), ``bias`` per
output channel. Accumulates in float64."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import spatial_pads, windows


@OPS.register("conv")
def conv(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    w = np.asarray(inputs["weight"], np.float64)
    n = w.ndim - 2
    kernel = w.shape[2:]
    strides = [int(s) for s in np.asarray(inputs.get("strides", [1] * n)).reshape(-1)]
    dil = [int(d) for d in np.asarray(inputs.get("dilations", [1] * n)).reshape(-1)]
    groups = int(inputs.get("groups", 1))
    pads = spatial_pads(x.shape[2:], kernel, strides, dil, str(inputs.get("pad_type", "valid")),
                        inputs.get("pad"))
    x = np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in pads])
    win = windows(x, kernel, strides, dil)  # [N, C, *out, *k]
    N, C = x.shape[:2]
    O = w.shape[0]
    out_sp = win.shape[2:2 + n]
    win = win.reshape(N, groups, C // groups, *out_sp, *kernel)
    wg = w.reshape(groups, O // groups, C // groups, *kernel)
    letters = "hwd"[:n]
    ks = "ijk"[:n]
    y = np.einsum(f"ngc{letters}{ks},goc{ks}->ngo{letters}", win, wg, optimize=True)
    y = y.reshape(N, O, *out_sp)
    if inputs.get("bias") is not None:
        y = y + np.asarray(inputs["bias"], np.float64).reshape(1, O, *([1] * n))
    return y.astype(np.float32)
