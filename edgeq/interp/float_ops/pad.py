"""Pad (ONNX Pad-19): ``pads`` input ``[x1_begin, x2_begin, ..., x1_end, x2_end, ...]``
over all axes or over the optional ``axes`` input; modes ``constant`` (value from the
optional ``constant_value`` input, default 0), ``reflect`` (mirror without repeating the
edge, numpy's ``reflect``), ``edge`` and ``wrap``. Negative pads crop."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints, attr_str, normalize_axes, optional, unsupported

_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}


@FLOAT_OPS.register("Pad")
def pad(node, inputs, ctx):
    x, pads = inputs[0], as_ints(inputs[1])
    value = optional(inputs, 2)
    axes = as_ints(optional(inputs, 3))
    mode = attr_str(node, "mode", "constant")
    if mode not in _MODES:
        raise unsupported(node, f"mode={mode!r}")
    axes = list(range(x.ndim)) if axes is None else normalize_axes(node, axes, x.ndim)
    if len(pads) != 2 * len(axes):
        raise ShapeError(f"node '{node.name}' (Pad): {len(pads)} pads for {len(axes)} axes "
                         f"(expected {2 * len(axes)})")
    width = [[0, 0] for _ in range(x.ndim)]
    for i, a in enumerate(axes):
        width[a] = [pads[i], pads[i + len(axes)]]
    crop = tuple(slice(-min(b, 0), x.shape[a] + min(e, 0)) for a, (b, e) in enumerate(width))
    x = x[crop]
    width = [(max(b, 0), max(e, 0)) for b, e in width]
    if mode == "reflect":
        for a, (b, e) in enumerate(width):
            if max(b, e) > x.shape[a] - 1:
                raise ShapeError(f"node '{node.name}' (Pad): reflect padding ({b}, {e}) on axis "
                                 f"{a} needs the axis ({x.shape[a]}) to be longer than each pad")
    if mode == "constant":
        fill = 0 if value is None or value.size == 0 else value.reshape(-1)[0]
        return [np.pad(x, width, mode="constant", constant_values=np.asarray(fill, x.dtype))]
    return [np.pad(x, width, mode=_MODES[mode])]
