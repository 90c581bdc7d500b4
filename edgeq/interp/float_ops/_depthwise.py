"""A fast 2-D depthwise convolution (``group == C``, one filter per channel) in numpy.

Why not per-tap strided windows: each tap then multiplies a strided view, numpy's inner
loops run over short rows, and the accumulator streams through memory 2·K times.
Instead:

* the zero-padded input is split into ``stride x stride`` *phase planes*
  (``plane[a, b] = xpad[a::s, b::s]``), so every tap of a strided, dilated kernel reads a
  stride-1 window of one plane;
* a stride-1 window of a row-major plane of width ``Wq`` starting at ``(r, c)`` is the
  contiguous 1-D slice ``[r * Wq + c, r * Wq + c + L)`` with ``L = (OH - 1) * Wq + OW``
  ("wide" output rows, whose ``Wq - OW`` extra columns are discarded), so every
  multiply/add is a contiguous SIMD loop;
* channels are processed in blocks of about 512 KiB so the accumulator stays in cache
  across the ``K`` taps, and bias and fused clamp are applied in the same block;
* small feature maps with many channels (``C`` > wide-row length) use a channels-last
  copy instead, so the inner loops run over ``C`` contiguous values;
* scratch buffers (planes, accumulator) are reused across calls from a per-thread pool:
  fresh large allocations are fresh mmap pages, and their page faults cost as much as the
  arithmetic.

Arithmetic is float32 multiply then add per tap in kernel order (onnxruntime's MLAS
depthwise kernel also accumulates in float32; results agree to rounding).
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

_BLOCK_BYTES = 1 << 19
_scratch = threading.local()


def _buffer(slot: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` backed by a reusable per-thread buffer."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf = getattr(_scratch, slot, None)
    if buf is None or buf.nbytes < size:
        buf = np.empty(max(size, 1 << 16), np.uint8)
        setattr(_scratch, slot, buf)
    return buf[:size].view(dtype).reshape(shape)


def _phase(n_in: int, pad_begin: int, s: int, a: int, nq: int) -> tuple[int, int, int]:
    """Phase ``a`` of one axis: first plane index, first input index, element count."""
    q0 = max(0, math.ceil((pad_begin - a) / s))
    i0 = a + s * q0 - pad_begin
    if i0 >= n_in or q0 >= nq:
        return q0, i0, 0
    return q0, i0, min(nq - q0, (n_in - 1 - i0) // s + 1)


def _planes(x: np.ndarray, pads_begin, strides, hq: int, wq: int, channels_last: bool) -> np.ndarray:
    """Zero-padded phase planes of ``x [N, C, H, W]``: ``[sh, sw, N, C, hq*wq]``, or
    ``[sh, sw, N, hq*wq, C]`` when ``channels_last``."""
    n, c, h, w = x.shape
    sh, sw = strides
    if channels_last:
        planes = _buffer("planes", (sh, sw, n, hq, wq, c), x.dtype)
        src = x.transpose(0, 2, 3, 1)  # [N, H, W, C]
    else:
        planes = _buffer("planes", (sh, sw, n, c, hq, wq), x.dtype)
        src = x
    planes.fill(0)
    for a in range(sh):
        q0, i0, cn = _phase(h, pads_begin[0], sh, a, hq)
        for b in range(sw):
            r0, j0, cm = _phase(w, pads_begin[1], sw, b, wq)
            if not (cn and cm):
                continue
            rows = slice(i0, i0 + sh * (cn - 1) + 1, sh)
            cols = slice(j0, j0 + sw * (cm - 1) + 1, sw)
            if channels_last:
                planes[a, b, :, q0:q0 + cn, r0:r0 + cm] = src[:, rows, cols]
            else:
                planes[a, b, :, :, q0:q0 + cn, r0:r0 + cm] = src[:, :, rows, cols]
    if channels_last:
        return planes.reshape(sh, sw, n, hq * wq, c)
    return planes.reshape(sh, sw, n, c, hq * wq)


def _channels_first(planes, taps, wk, bias, clamp, out, length, wq):
    """Accumulate per channel block: rows are channels, each a contiguous wide row.

    ``acc`` and ``tmp`` are contiguous ``[cb, length]`` blocks, so ``acc += tmp`` runs as
    one flat loop (numpy pays ~0.1 us per row of a strided operand); output row ``r`` of
    channel ``ch`` is ``acc[ch, r * wq : r * wq + ow]``, read back through a strided view.
    """
    n, c, oh, ow = out.shape
    cb = min(c, max(1, _BLOCK_BYTES // (length * out.itemsize)))
    acc_buf = _buffer("wide", (cb, length), out.dtype)
    tmp_buf = _buffer("tmp", (cb, length), out.dtype)
    item = out.itemsize
    for b in range(n):
        for c0 in range(0, c, cb):
            c1 = min(c, c0 + cb)
            acc, t = acc_buf[:c1 - c0], tmp_buf[:c1 - c0]
            for k, (pa, pb, off) in enumerate(taps):
                window = planes[pa, pb, b, c0:c1, off:off + length]
                coef = wk[k, c0:c1, None]
                if k == 0:
                    np.multiply(window, coef, out=acc)
                else:
                    np.multiply(window, coef, out=t)
                    acc += t
            if bias is not None:
                acc += bias[c0:c1, None]
            if clamp is not None:
                np.clip(acc, clamp[0], clamp[1], out=acc)
            out[b, c0:c1] = as_strided(acc, shape=(c1 - c0, oh, ow),
                                       strides=(length * item, wq * item, item), writeable=False)


def _channels_last(planes, taps, wk, bias, clamp, out, length, wq):
    """Accumulate per image: rows are output positions, each a contiguous vector of C."""
    n, c, oh, ow = out.shape
    wide = _buffer("wide", (oh * wq, c), out.dtype)
    tmp = _buffer("tmp", (length, c), out.dtype)
    acc = wide[:length]
    for b in range(n):
        for k, (pa, pb, off) in enumerate(taps):
            window = planes[pa, pb, b, off:off + length]
            if k == 0:
                np.multiply(window, wk[k], out=acc)
            else:
                np.multiply(window, wk[k], out=tmp)
                acc += tmp
        if bias is not None:
            acc += bias
        if clamp is not None:
            np.clip(acc, clamp[0], clamp[1], out=acc)
        out[b] = wide.reshape(oh, wq, c)[:, :ow].transpose(2, 0, 1)


def depthwise_conv2d(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, win,
                     clamp: tuple[float, float] | None = None) -> np.ndarray:
    """``x [N, C, H, W]``, ``w [C, 1, KH, KW]`` -> ``[N, C, OH, OW]`` for window ``win``.

    Layout choice: numpy pays a fixed cost per inner-loop row, so rows should be long.
    Channel-first rows have ``length`` elements, channel-last rows ``C``; the longer wins.
    """
    n, c, h, wd = x.shape
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.strides, win.dilations
    oh, ow = win.out
    hp = h + win.pads_begin[0] + win.pads_end[0]
    wp = wd + win.pads_begin[1] + win.pads_end[1]
    # planes must hold every row/column a tap reaches
    hq = max(-(-hp // sh), (oh - 1) + ((kh - 1) * dh) // sh + 1)
    wq = max(-(-wp // sw), (ow - 1) + ((kw - 1) * dw) // sw + 1)
    length = (oh - 1) * wq + ow
    channels_last = c > length
    planes = _planes(x, win.pads_begin, (sh, sw), hq, wq, channels_last)
    taps = [((i * dh) % sh, (j * dw) % sw, ((i * dh) // sh) * wq + (j * dw) // sw)
            for i in range(kh) for j in range(kw)]
    wk = np.ascontiguousarray(w.reshape(c, kh * kw).T)  # [K, C]
    out = np.empty((n, c, oh, ow), x.dtype)
    run = _channels_last if channels_last else _channels_first
    run(planes, taps, wk, bias, clamp, out, length, wq)
    return out
