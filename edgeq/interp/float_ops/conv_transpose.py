"""ConvTranspose (ONNX ConvTranspose-11): the gradient of Conv with respect to its input.

``X[N, C, *in]``, ``W[C, M/group, *k]``, ``B[M]``. Each input pixel ``i`` scatters
``X[n, c, i] · W[c, m, k]`` to the output position ``i·s + k·d``; the full output has
``(in - 1)·s + (k - 1)·d + 1 + output_padding`` positions per axis, of which
``[pads_begin, pads_begin + out)`` are kept. Output size and pads follow the ONNX spec:
``out = s·(in - 1) + output_padding + (k - 1)·d + 1 - pads_begin - pads_end``; with
``output_shape`` (or ``auto_pad`` SAME_*, whose output is ``in·s``) the total padding is
derived from it and split as the spec says (SAME_UPPER: the extra pixel at the end;
otherwise at the beginning).

Arithmetic: per group, one matmul ``W_g^T[M/g·K, C/g] @ X_g[C/g, N·P]`` gives every
tap's contribution, then one strided add per tap (col2im). Exact float32 products,
summed in another order than onnxruntime's MLAS col2im.
"""

from __future__ import annotations

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import apply_fused_clamp, optional, require_float


def _str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def transpose_geometry(node, in_sizes, kernel):
    """``(strides, dilations, pads_begin, pads_end, output_padding, out_sizes)``."""
    n = len(kernel)
    strides = [int(s) for s in node.attrs.get("strides", [1] * n)]
    dil = [int(d) for d in node.attrs.get("dilations", [1] * n)]
    opad = [int(p) for p in node.attrs.get("output_padding", [0] * n)]
    auto = _str(node.attrs.get("auto_pad", "NOTSET"))
    out_shape = node.attrs.get("output_shape")
    if out_shape is not None:
        out_shape = [int(v) for v in out_shape][-n:]
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = [i * s for i, s in zip(in_sizes, strides)]
    if out_shape is not None:
        begin, end = [], []
        for i, k, s, d, op, o in zip(in_sizes, kernel, strides, dil, opad, out_shape):
            total = s * (i - 1) + op + (k - 1) * d + 1 - o
            if auto == "SAME_UPPER":
                b = total // 2
            else:
                b = total - total // 2
            begin.append(b)
            end.append(total - b)
    else:
        pads = [int(p) for p in node.attrs.get("pads", [0] * (2 * n))]
        begin, end = pads[:n], pads[n:]
    out = [s * (i - 1) + op + (k - 1) * d + 1 - b - e
           for i, k, s, d, op, b, e in zip(in_sizes, kernel, strides, dil, opad, begin, end)]
    if any(o <= 0 for o in out) or any(b < 0 or e < 0 for b, e in zip(begin, end)):
        raise ShapeError(f"node '{node.name}' (ConvTranspose): pads {begin + end} give output "
                         f"size {out} for input {list(in_sizes)}; check pads/output_shape")
    return strides, dil, begin, end, opad, out


def scatter_taps(cols: np.ndarray, in_sizes, kernel, strides, dil, opad) -> np.ndarray:
    """col2im: ``cols[N, M, *k, *in]`` -> the full output ``[N, M, *full]``."""
    n, m = cols.shape[:2]
    nsp = len(kernel)
    full = [(i - 1) * s + (k - 1) * d + 1 + op for i, k, s, d, op in zip(in_sizes, kernel, strides, dil, opad)]
    y = np.zeros((n, m, *full), cols.dtype)
    for tap in np.ndindex(*kernel):
        sl = tuple(slice(t * d, t * d + (i - 1) * s + 1, s)
                   for t, d, i, s in zip(tap, dil, in_sizes, strides))
        y[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + tap]
    assert y.ndim == 2 + nsp
    return y


def crop(y: np.ndarray, begin, out) -> np.ndarray:
    return y[(slice(None), slice(None)) + tuple(slice(b, b + o) for b, o in zip(begin, out))]


@FLOAT_OPS.register("ConvTranspose")
def conv_transpose(node, inputs, ctx):
    x, w, b = inputs[0], inputs[1], optional(inputs, 2)
    require_float(node, x, w, b)
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ShapeError(f"node '{node.name}' (ConvTranspose): input rank {x.ndim} and weight "
                         f"rank {w.ndim} must match and be >= 3 (N, C, spatial...)")
    group = int(node.attrs.get("group", 1))
    n, c = x.shape[:2]
    if w.shape[0] != c or c % group:
        raise ShapeError(f"node '{node.name}' (ConvTranspose): input has {c} channels, weight "
                         f"{tuple(w.shape)} with group={group} expects {w.shape[0]}")
    kernel = tuple(w.shape[2:])
    in_sizes = x.shape[2:]
    strides, dil, begin, _, opad, out = transpose_geometry(node, in_sizes, kernel)
    cg, mg = c // group, w.shape[1]
    k = int(np.prod(kernel))
    p = int(np.prod(in_sizes))
    xg = x.reshape(n, group, cg, p)
    wg = w.reshape(group, cg, mg * k)
    # [group, M/g·K, C/g] @ [N, group, C/g, P] -> [N, group, M/g·K, P]
    cols = np.matmul(np.transpose(wg, (0, 2, 1))[None], xg)
    cols = cols.reshape((n, group * mg) + kernel + tuple(in_sizes))
    y = crop(scatter_taps(cols, in_sizes, kernel, strides, dil, opad), begin, out)
    y = np.ascontiguousarray(y)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(kernel))
    return [apply_fused_clamp(node, y, inplace=True)]


conv_transpose.applies_fused_clamp = True  # the interpreter must not clamp again
