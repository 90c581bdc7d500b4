"""ConvTranspose -> TRANSPOSE_CONV (tensorflow/lite/kernels/transpose_conv.cc).

Inputs of the builtin: the output shape (int32 ``[N, H, W, C_out]``), the OHWI filter
(``convert_layout`` turns ONNX ``[C_in, C_out, kH, kW]`` into ``[C_out, kH, kW, C_in]``),
the NHWC input and, from version 3 on, the bias (int32, scale ``s_in·s_w[c]``).

Padding: TFLite derives one leading pad per axis from the *output* size
(``ComputePaddingHeightWidth`` on the output, as for a forward conv from output to
input): 0 for VALID, ``floor(total / 2)`` for SAME with ``total = max((ceil(out/s) - 1)·s
+ k - out, 0)``; the kernel writes input pixel ``i``'s taps to ``i·s - pad + k`` and
drops those outside the output; Prepare also requires the input size it computes back
from the output to be the real one. When neither mode fits the ONNX pads, the op runs
VALID into the whole scatter (``(in - 1)·s + k``, plus the ONNX output padding, which
is below the stride) and a SLICE keeps the ONNX window (exact: requantization is per
element).

No dilation and no groups (the kernel has neither); the fused activation is applied by
a separate op (version 4's fused activation would raise the runtime requirement).
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import transpose_geometry

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts, require_dtypes, unfused
from edgeq_tflite.emit.lowering.conv import zero_bias
from edgeq_tflite.emit.schema import BuiltinOperator as B, Padding


def tflite_pad(size_in: int, out: int, k: int, s: int, padding: int) -> int | None:
    """The leading pad TRANSPOSE_CONV uses on an axis of output size ``out``, or None when
    its Prepare would reject the shapes (the input size it computes from ``out`` must
    equal ``size_in``, transpose_conv.cc)."""
    computed = -(-out // s) if padding == Padding.SAME else (out + s - k) // s
    if computed != size_in:
        return None
    return max((computed - 1) * s + k - out, 0) // 2


@register("ConvTranspose")
def lower_conv_transpose(ctx, node) -> None:
    if node.attrs.get("data_layout") != "NHWC":
        raise ctx.unsupported(node, "ConvTranspose must be converted to NHWC first "
                                    "(edgeq.ir.passes.convert_layout)")
    x = ctx.tensor(node.inputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, (np.int8,), "TRANSPOSE_CONV")
    w_ir = ctx.ir(node.inputs[1])
    if w_ir.data is None:
        raise ctx.unsupported(node, "TFLite TRANSPOSE_CONV needs a constant filter")
    if len(x.shape) != 4 or int(node.attrs.get("group", 1)) != 1:
        raise ctx.unsupported(node, "TFLite TRANSPOSE_CONV is 2-D and ungrouped")
    kernel = w_ir.data.shape[1:3]
    strides, dil, begin, _, _, out_hw = transpose_geometry(node, x.shape[1:3], kernel)
    if any(d != 1 for d in dil):
        raise ctx.unsupported(node, "TFLite TRANSPOSE_CONV has no dilation")
    y, finish = unfused(ctx, node, node.outputs[0])
    padding = next((p for p in (Padding.VALID, Padding.SAME)
                    if all(tflite_pad(i, o, k, s, p) == b
                           for i, o, k, s, b in zip(x.shape[1:3], out_hw, kernel, strides, begin))), None)
    target = y
    if padding is None:  # VALID into the whole scatter, then the ONNX window
        padding = Padding.VALID
        full = [(i - 1) * s + k for i, k, s in zip(x.shape[1:3], kernel, strides)]
        full = [max(f, b + o) for f, b, o in zip(full, begin, out_hw)]  # output padding
        target = ctx.new(f"{y.name}_uncropped", y.dtype, (y.shape[0], *full, y.shape[3]), y.quant)
    c_out = y.shape[-1]
    b_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else ""
    b = ctx.tensor(b_name) if b_name else zero_bias(ctx, node.name, x, w_ir.quant, c_out)
    shape = ctx.int32_vector(f"{node.name}_output_shape", target.shape)
    o = opts("TransposeConvOptions", padding=padding, strideH=strides[0], strideW=strides[1])
    ctx.op(B.TRANSPOSE_CONV, [shape, ctx.tensor(node.inputs[1]), x, b], [target], o)
    if target is not y:
        ctx.op(B.SLICE, [target, ctx.int32_vector(f"{node.name}_crop_begin", [0, begin[0], begin[1], 0]),
                         ctx.int32_vector(f"{node.name}_crop_size", y.shape)], [y],
               opts("SliceOptions"))
    finish()
