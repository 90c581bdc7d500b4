"""Window geometry of Conv and pooling nodes, as TFLite's reference kernels walk it.

TFLite's kernels only use the *leading* padding (``padding_values``) and the output
size: ``in_origin = out * stride − pad_begin`` and taps outside the input are skipped
(conv: contribute zero after the input offset; pooling: excluded from max and count).
The IR carries ONNX attributes (explicit ``pads`` = begin values then end values, or
``auto_pad``), from which the same leading pads and output sizes follow.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from edgeq.interp.integer_ops._common import unsupported


@dataclass(frozen=True)
class Window:
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    out: tuple[int, ...]

    def pad(self, x: np.ndarray, value) -> np.ndarray:
        """Pad the spatial axes (the trailing ones) so that every tap slice is in bounds."""
        nsp = len(self.kernel)
        widths = [(0, 0)] * (x.ndim - nsp)
        for i, (n, k, s, d, b, o) in enumerate(zip(x.shape[-nsp:], self.kernel, self.strides,
                                                 self.dilations, self.pads_begin, self.out)):
            need = (o - 1) * s + (k - 1) * d + 1
            widths.append((b, max(need - n - b, 0)))
        if not any(w for pair in widths for w in pair):
            return x
        return np.pad(x, widths, constant_values=value)

    def taps(self):
        """Yield ``(flat_tap_index, slices)`` selecting each kernel tap of a padded input."""
        for t, k in enumerate(itertools.product(*(range(n) for n in self.kernel))):
            yield t, tuple(slice(ki * d, ki * d + s * (o - 1) + 1, s)
                           for ki, d, s, o in zip(k, self.dilations, self.strides, self.out))


def resolve(node, in_spatial, kernel) -> Window:
    """Strides, dilations, leading pads and output size of ``node`` (ONNX attributes)."""
    nsp = len(in_spatial)
    strides = tuple(int(s) for s in (node.attrs.get("strides") or [1] * nsp))
    dilations = tuple(int(d) for d in (node.attrs.get("dilations") or [1] * nsp))
    kernel = tuple(int(k) for k in kernel)
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if isinstance(auto_pad, bytes):
        auto_pad = auto_pad.decode()
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out = [math.ceil(i / s) for i, s in zip(in_spatial, strides)]
        total = [max((o - 1) * s + e - i, 0) for o, s, e, i in zip(out, strides, eff, in_spatial)]
        begin = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in total]
    elif auto_pad in ("NOTSET", "VALID", ""):
        pads = list(node.attrs.get("pads") or [0] * (2 * nsp)) if auto_pad != "VALID" else [0] * (2 * nsp)
        if len(pads) != 2 * nsp:
            raise unsupported(node, f"pads {pads} must have {2 * nsp} entries")
        begin, end = pads[:nsp], pads[nsp:]
        out = [(i + b + e_ - k) // s + 1 for i, b, e_, k, s in zip(in_spatial, begin, end, eff, strides)]
        if node.attrs.get("ceil_mode", 0):
            ceil = [math.ceil((i + b + e_ - k) / s) + 1
                    for i, b, e_, k, s in zip(in_spatial, begin, end, eff, strides)]
            if ceil != out:
                raise unsupported(node, "ceil_mode=1 with a partial last window has no TFLite "
                                        "integer equivalent; pad explicitly instead")
    else:
        raise unsupported(node, f"auto_pad={auto_pad!r}")
    if len(strides) != nsp or len(dilations) != nsp or any(o <= 0 for o in out):
        raise unsupported(node, f"window kernel {kernel}, strides {strides}, dilations "
                                f"{dilations} do not fit input spatial size {tuple(in_spatial)}")
    return Window(kernel, strides, dilations, tuple(int(b) for b in begin), tuple(int(o) for o in out))
