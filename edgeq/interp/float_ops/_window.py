"""Sliding-window geometry shared by Conv, AveragePool and MaxPool.

Output size and ``auto_pad`` follow the ONNX Conv/AveragePool specification:
``out = floor((in + pad_begin + pad_end - ((k - 1) * d + 1)) / s) + 1`` (``ceil`` when
``ceil_mode=1``); ``SAME_UPPER``/``SAME_LOWER`` give ``out = ceil(in / s)`` with the odd
padding element at the end (upper) or the beginning (lower); ``VALID`` pads nothing.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops._common import attr_str, unsupported


@dataclass(frozen=True)
class Window:
    """Resolved window geometry for ``nsp`` spatial axes."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]
    out: tuple[int, ...]
    #: extra elements past ``pads_end`` that ceil_mode windows may touch
    overhang: tuple[int, ...]

    def taps(self):
        """Yield ``(kernel_index, spatial slices)`` for each kernel tap into the padded input."""
        for k in itertools.product(*(range(n) for n in self.kernel)):
            yield k, tuple(slice(ki * d, ki * d + s * (o - 1) + 1, s)
                           for ki, d, s, o in zip(k, self.dilations, self.strides, self.out))


def resolve_window(node, in_spatial, kernel, *, ceil_mode: bool = False) -> Window:
    """Resolve strides/dilations/pads/auto_pad of ``node`` for input spatial dims ``in_spatial``."""
    nsp = len(in_spatial)
    strides = tuple(node.attrs.get("strides") or [1] * nsp)
    dilations = tuple(node.attrs.get("dilations") or [1] * nsp)
    kernel = tuple(int(k) for k in kernel)
    if len(strides) != nsp or len(dilations) != nsp or len(kernel) != nsp:
        raise ShapeError(f"node '{node.name}' ({node.op_type}): strides {strides}, dilations "
                         f"{dilations} and kernel {kernel} must each have {nsp} entries")
    auto_pad = attr_str(node, "auto_pad", "NOTSET")
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out = [math.ceil(i / s) for i, s in zip(in_spatial, strides)]
        total = [max((o - 1) * s + e - i, 0) for o, s, e, i in zip(out, strides, eff, in_spatial)]
        small = [t // 2 for t in total]
        big = [t - t // 2 for t in total]
        begin, end = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
    elif auto_pad in ("NOTSET", "VALID"):
        pads = node.attrs.get("pads") if auto_pad == "NOTSET" else None
        pads = list(pads) if pads else [0] * (2 * nsp)
        if len(pads) != 2 * nsp:
            raise ShapeError(f"node '{node.name}' ({node.op_type}): pads {pads} must have "
                             f"{2 * nsp} entries (begin values then end values)")
        begin, end = pads[:nsp], pads[nsp:]
        rounding = math.ceil if ceil_mode else math.floor
        out = [rounding((i + b + e_ - k) / s) + 1
               for i, b, e_, k, s in zip(in_spatial, begin, end, eff, strides)]
        if ceil_mode:
            # ONNX/PyTorch rule: the last window must start inside the input or the
            # begin padding, otherwise it is dropped.
            out = [o - 1 if (o - 1) * s >= i + b else o
                   for o, s, i, b in zip(out, strides, in_spatial, begin)]
    else:
        raise unsupported(node, f"auto_pad={auto_pad!r}")
    if any(o <= 0 for o in out):
        raise ShapeError(f"node '{node.name}' ({node.op_type}): input spatial size "
                         f"{tuple(in_spatial)} is too small for kernel {kernel} (output {out})")
    overhang = [max((o - 1) * s + e - (i + b + e_), 0)
                for o, s, e, i, b, e_ in zip(out, strides, eff, in_spatial, begin, end)]
    return Window(kernel, strides, dilations, tuple(begin), tuple(end), tuple(out), tuple(overhang))


def pad_spatial(x: np.ndarray, begin, end, value: float = 0.0) -> np.ndarray:
    """Pad the trailing spatial axes of ``x`` (N, C, *spatial) with a constant.

    Faster than ``np.pad`` for the common case: one allocation and one copy.
    """
    if not any(begin) and not any(end):
        return x
    shape = x.shape[:2] + tuple(n + b + e for n, b, e in zip(x.shape[2:], begin, end))
    out = np.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(b, b + n) for b, n in zip(begin, x.shape[2:]))] = x
    return out
