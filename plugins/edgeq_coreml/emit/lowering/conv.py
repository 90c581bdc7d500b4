"""Conv (NCHW, ``W[O, I/g, kH, kW]``, depthwise when ``group == C_in``) -> MIL ``conv``.

ONNX pads ``[t, l, b, r]`` become MIL's ``pad=[t, b, l, r]`` with ``pad_type="custom"``
(MIL conv: ``pad`` lists begin/end per spatial axis). The bias (int32 at scale
``s_in·s_w[c]`` in the QuantizedGraph) is passed as its real value.
"""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("Conv")
def lower_conv(ctx, node):
    x = ctx.value(node.inputs[0])
    w_ir = ctx.ir(node.inputs[1])
    if w_ir.data is None:
        raise ctx.unsupported(node, "the weight is not a constant (Core ML conv needs a const "
                                    "weight for the Neural Engine); fold it before building")
    w = ctx.weight(node.inputs[1], axis=0)
    rank = len(w_ir.shape) - 2
    pads = [int(p) for p in node.attrs.get("pads", [0] * (2 * rank))]
    mil_pad = [v for i in range(rank) for v in (pads[i], pads[i + rank])]
    kw = dict(x=x, weight=w, strides=[int(s) for s in node.attrs.get("strides", [1] * rank)],
              dilations=[int(d) for d in node.attrs.get("dilations", [1] * rank)],
              groups=int(node.attrs.get("group", 1)), pad_type="custom", pad=mil_pad)
    if len(node.inputs) > 2 and node.inputs[2]:
        kw["bias"] = ctx.real_const(node.inputs[2]).astype(np.float32).reshape(-1)
    ctx.finish(node, ctx.mb.conv(**kw))
