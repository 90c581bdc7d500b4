"""Pad (TFLite PAD / PADV2 / MIRROR_PAD): ONNX Pad with constant ``pads`` (begin values
then end values, optional ``axes``). Mode ``constant`` fills with the quantized constant
value if one is given, else with the zero point — the integer that represents real 0,
which TFLite's PAD uses (``output->params.zero_point``); ``reflect``/``edge`` copy raw
values. Same scale in and out."""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import const_input, unsupported
from edgeq.interp.integer_ops._same_scale import check_same_scale


@INTEGER_OPS.register("Pad")
def pad(node, inputs, ctx):
    x = inputs[0]
    check_same_scale(ctx, node, x, node.inputs[:1], node.outputs)
    pads = const_input(ctx, node, 1, "pads")
    if pads is None:
        raise unsupported(node, "needs a constant pads input")
    axes = const_input(ctx, node, 3, "axes")
    axes = list(range(x.ndim)) if axes is None else [int(a) % x.ndim for a in axes]
    pads = [int(p) for p in pads]
    k = len(axes)
    if len(pads) != 2 * k or any(p < 0 for p in pads):
        raise unsupported(node, f"pads {pads} must be 2 x {k} non-negative values (negative "
                                "pads are slices)")
    widths = [(0, 0)] * x.ndim
    for i, a in enumerate(axes):
        widths[a] = (pads[i], pads[k + i])
    mode = node.attrs.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode == "constant":
        value = const_input(ctx, node, 2, "the constant value")
        q = ctx.graph.tensors[node.inputs[0]].quant
        if value is None:
            fill = int(q.zero_point[0]) if q is not None else 0
        elif value.dtype.kind in "iu":
            fill = int(np.ravel(value)[0])
        else:
            raise unsupported(node, "the constant value of a quantized Pad must itself be "
                                    "quantized (an integer of the input's type)")
        return [np.pad(x, widths, constant_values=fill)]
    if mode in ("reflect", "edge"):
        return [np.pad(x, widths, mode=mode)]
    raise unsupported(node, f"mode={mode!r}")
