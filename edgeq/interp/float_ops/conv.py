"""Conv (ONNX Conv-11): N-D convolution with groups, strides, dilations and pads.

``Y[n, m] = B[m] + sum_{c, k} W[m, c, k] * Xpad[n, g(m) * C/group + c, o * s + k * d]``.

Three paths, chosen by shape (all exact float32 arithmetic, differing only in
summation order from onnxruntime's MLAS kernels):

* 1x1, stride 1, no padding: a single matmul ``W[M, C] @ X[N, C, H*W]``;
* 2-D depthwise (``group == C == M``): ``_depthwise.depthwise_conv2d`` (phase planes,
  contiguous wide-row taps, cache-sized channel blocks, bias and fused clamp in-block);
* other depthwise (1-D, channel multiplier > 1): per-tap accumulation of shifted input
  windows times a per-channel weight, which avoids the K-fold memory of im2col;
* otherwise im2col via a strided view (``as_strided``, no copy) followed by one copy into
  ``[N, group, C/group*K, OH*OW]`` and a batched matmul with ``W[group, M/group, C/group*K]``.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import apply_fused_clamp, optional, require_float
from edgeq.interp.float_ops._depthwise import depthwise_conv2d
from edgeq.interp.float_ops._window import pad_spatial, resolve_window


def _depthwise(xp, w, win, n, c, mult):
    """Depthwise conv: ``group == C`` and ``M = C * mult``."""
    nsp = len(win.out)
    wk = w.reshape(c, mult, -1)  # [C, mult, K]
    acc = np.zeros((n, c, mult) + win.out, dtype=xp.dtype)
    tmp = np.empty_like(acc)
    bshape = (1, c, mult) + (1,) * nsp
    for t, (_, sl) in enumerate(win.taps()):
        window = xp[(slice(None), slice(None)) + sl][:, :, None]
        np.multiply(window, wk[:, :, t].reshape(bshape), out=tmp)
        acc += tmp
    return acc.reshape((n, c * mult) + win.out)


def _im2col(xp, win, n, c):
    """A ``[N, C, *K, *OUT]`` strided view of the padded input (no copy)."""
    nsp = len(win.out)
    sn, sc = xp.strides[:2]
    ssp = xp.strides[2:]
    shape = (n, c) + win.kernel + win.out
    strides = (sn, sc) + tuple(s * d for s, d in zip(ssp, win.dilations)) + \
              tuple(s * st for s, st in zip(ssp, win.strides))
    assert len(shape) == len(strides) == 2 + 2 * nsp
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def _clamp(node):
    lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
    if lo is None and hi is None:
        return None
    return (-np.inf if lo is None else lo, np.inf if hi is None else hi)


@FLOAT_OPS.register("Conv")
def conv(node, inputs, ctx):
    x, w, b = inputs[0], inputs[1], optional(inputs, 2)
    require_float(node, x, w, b)
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ShapeError(f"node '{node.name}' (Conv): input rank {x.ndim} and weight rank "
                         f"{w.ndim} must match and be >= 3 (N, C, spatial...)")
    group = int(node.attrs.get("group", 1))
    n, c = x.shape[:2]
    m, cg = w.shape[:2]
    if c != cg * group or m % group:
        raise ShapeError(f"node '{node.name}' (Conv): input has {c} channels, weight "
                         f"{tuple(w.shape)} with group={group} expects {cg * group}")
    kernel = node.attrs.get("kernel_shape") or w.shape[2:]
    if tuple(kernel) != tuple(w.shape[2:]):
        raise ShapeError(f"node '{node.name}' (Conv): kernel_shape {tuple(kernel)} does not "
                         f"match weight {tuple(w.shape)}")
    win = resolve_window(node, x.shape[2:], kernel)
    ksize = int(np.prod(win.kernel))
    out_size = int(np.prod(win.out))
    if group == c == m and len(win.out) == 2:
        return [depthwise_conv2d(x, w, b, win, _clamp(node))]
    if ksize == 1 and group == 1 and all(s == 1 for s in win.strides) \
            and not any(win.pads_begin) and not any(win.pads_end):
        y = np.matmul(w.reshape(m, c), x.reshape(n, c, -1))
        y = y.reshape((n, m) + win.out)
    else:
        xp = pad_spatial(x, win.pads_begin, win.pads_end)
        if group == c > 1 and cg == 1:
            y = _depthwise(xp, w, win, n, c, m // c)
        else:
            cols = _im2col(xp, win, n, c)
            # the one im2col copy; ascontiguousarray because reshape may return the
            # overlapping strided view itself, which numpy's matmul cannot hand to BLAS
            cols = np.ascontiguousarray(cols.reshape((n, group, cg * ksize, out_size)))
            wg = w.reshape(group, m // group, cg * ksize)
            y = np.matmul(wg, cols).reshape((n, m) + win.out)
    if b is not None:
        y += b.reshape((1, m) + (1,) * len(win.out))
    return [apply_fused_clamp(node, y, inplace=True)]


conv.applies_fused_clamp = True  # the interpreter must not clamp again
