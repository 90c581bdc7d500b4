"""ConvTranspose (NCHW, ``W[C_in, C_out/g, *k]``, per-channel scales on axis 1) -> MIL
``conv_transpose``.

MIL's ``conv_transpose`` (coremltools, ``ops/defs/iOS15/conv.py``) takes the ONNX
weight layout and crops its full scatter by ``pad`` (begin, end per spatial axis):
``D_out = (D_in - 1)·stride + (K - 1)·dilation + 1 - begin - end``. ONNX's
``output_padding`` lengthens the output at the end (``edgeq.interp.float_ops
.conv_transpose.transpose_geometry`` resolves it, ``output_shape`` and ``auto_pad`` into
begin/end pads); it is the same as cropping ``output_padding`` fewer elements at the end,
so ``pad_end = end - output_padding``. When the end pad is smaller than the output
padding the extra rows hold only the bias: that form is refused, naming the node.
The bias is its real value, as for Conv.
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import transpose_geometry
from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("ConvTranspose")
def lower_conv_transpose(ctx, node):
    x = ctx.value(node.inputs[0])
    w_ir = ctx.ir(node.inputs[1])
    if w_ir.data is None:
        raise ctx.unsupported(node, "the weight is not a constant (Core ML conv_transpose needs a "
                                    "const weight); fold it before building")
    x_ir = ctx.ir(node.inputs[0])
    kernel = tuple(w_ir.shape[2:])
    strides, dil, begin, end, opad, _ = transpose_geometry(node, tuple(x_ir.shape[2:]), kernel)
    ends = [e - p for e, p in zip(end, opad)]
    if any(e < 0 for e in ends):
        raise ctx.unsupported(node, f"output_padding {opad} exceeds the end pads {end}: the extra "
                                    f"rows would hold only the bias, which MIL conv_transpose does "
                                    f"not write")
    w = ctx.weight(node.inputs[1], axis=1)
    kw = dict(x=x, weight=w, strides=list(strides), dilations=list(dil),
              groups=int(node.attrs.get("group", 1)), pad_type="custom",
              pad=[v for b, e in zip(begin, ends) for v in (b, e)])
    if len(node.inputs) > 2 and node.inputs[2]:
        kw["bias"] = ctx.real_const(node.inputs[2]).astype(np.float32).reshape(-1)
    ctx.finish(node, ctx.mb.conv_transpose(**kw))
