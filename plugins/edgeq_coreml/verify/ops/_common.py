"""Helpers shared by the kernels: float32 compute copies and broadcasting of per-axis
quantization parameters (MIL quantization ops: a vector ``scale`` of size
``input.shape[axis]`` broadcasts along ``axis``)."""

from __future__ import annotations

import numpy as np


def f32(x) -> np.ndarray:
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype.kind == "f" or x.dtype.kind in "iub" else x


def along(param, ndim: int, axis) -> np.ndarray:
    """``param`` (scalar or vector) shaped to broadcast against a rank-``ndim`` tensor."""
    p = np.asarray(param)
    if p.ndim == 0 or p.size == 1 and axis is None:
        return p.reshape(())
    if p.ndim == ndim:
        return p
    shape = [1] * ndim
    shape[int(axis) % ndim] = p.size
    return p.reshape(shape)


def spatial_pads(x_hw, kernel, strides, dilations, pad_type, pad):
    """(begin, end) per spatial axis for MIL's pad_type valid / same / custom
    (conv.py in coremltools' op definitions: ``same`` pads like TensorFlow, the extra
    pixel after)."""
    n = len(kernel)
    if pad_type == "custom":
        p = [int(v) for v in np.asarray(pad).reshape(-1)]
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type == "valid":
        return [(0, 0)] * n
    out = []
    for size, k, s, d in zip(x_hw, kernel, strides, dilations):
        eff = (k - 1) * d + 1
        o = -(-size // s)
        total = max((o - 1) * s + eff - size, 0)
        out.append((total // 2, total - total // 2) if pad_type == "same" else
                   (total - total // 2, total // 2))
    return out


def windows(x: np.ndarray, kernel, strides, dilations) -> np.ndarray:
    """``[N, C, *out, *kernel]`` view of the (already padded) ``x`` for pooling/conv."""
    n = len(kernel)
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    v = np.lib.stride_tricks.sliding_window_view(x, eff, axis=tuple(range(2, 2 + n)))
    idx = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides) + \
        tuple(slice(None, None, d) for d in dilations)
    return v[idx]
