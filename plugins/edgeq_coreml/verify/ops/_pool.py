"""The window walk shared by avg_pool and max_pool (MIL pool ops: ``kernel_sizes``,
``strides``, ``pad_type``/``pad``, ``ceil_mode``, ``exclude_padding_from_average``)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops._common import spatial_pads, windows


def pool(inputs, kind: str) -> np.ndarray:
    x = np.asarray(inputs["x"], np.float64)
    kernel = [int(k) for k in np.asarray(inputs["kernel_sizes"]).reshape(-1)]
    n = len(kernel)
    strides = [int(s) for s in np.asarray(inputs.get("strides", [1] * n)).reshape(-1)]
    pads = spatial_pads(x.shape[2:], kernel, strides, [1] * n, str(inputs.get("pad_type", "valid")),
                        inputs.get("pad"))
    if bool(inputs.get("ceil_mode", False)):
        # extra end padding so that a partial last window exists (it holds no real value
        # beyond the input, so it is excluded like padding)
        pads = [(b, e + (-(size + b + e - k) % s)) for (b, e), size, k, s in
                zip(pads, x.shape[2:], kernel, strides)]
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads), constant_values=fill)
    win = windows(xp, kernel, strides, [1] * n)
    axes = tuple(range(2 + n, 2 + 2 * n))
    if kind == "max":
        return win.max(axis=axes).astype(np.float32)
    total = win.sum(axis=axes)
    if bool(inputs.get("exclude_padding_from_average", False)):
        ones = np.pad(np.ones((1, 1) + x.shape[2:]), [(0, 0), (0, 0)] + list(pads))
        count = windows(ones, kernel, strides, [1] * n).sum(axis=axes)
    else:
        count = float(np.prod(kernel))
    return (total / count).astype(np.float32)
