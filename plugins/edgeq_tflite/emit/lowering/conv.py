"""Conv -> CONV_2D / DEPTHWISE_CONV_2D (tensorflow/lite/kernels/conv.cc, depthwise_conv.cc).

Input is NHWC with OHWI filters (or ``[1, kH, kW, C·m]`` depthwise), as left by
``convert_layout``. Explicit ONNX pads map to Padding.SAME/VALID when they equal what
TFLite computes; otherwise a PAD (zero-point fill, i.e. real 0) precedes a VALID conv.
1-D convs run as 2-D with H = 1 (RESHAPE around). Grouped convs (1 < group < C_in)
are split per group and concatenated, which keeps each output channel's arithmetic
identical. A missing bias becomes an explicit zero bias (int32, or int64 for 16x8,
with scale s_in·s_w[c] as the kernels expect).
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import QDType, QuantParams

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, choose_padding, fused_into, opts,
                                                pad_tensor, require_dtypes, reshape)
from edgeq_tflite.emit.schema import BuiltinOperator as B, Padding


def conv_geometry(node, spatial_in, kernel):
    """(strides, dilations, pads_begin, pads_end) with ONNX ``auto_pad`` resolved."""
    n = len(kernel)
    strides = [int(s) for s in node.attrs.get("strides", [1] * n)]
    dil = [int(d) for d in node.attrs.get("dilations", [1] * n)]
    auto = node.attrs.get("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(spatial_in, kernel, strides, dil):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return strides, dil, begin, end
    pads = [int(p) for p in node.attrs.get("pads", [0] * (2 * n))]
    return strides, dil, pads[:n], pads[n:]


def zero_bias(ctx, name: str, x, w_quant, c_out: int):
    """An all-zero bias of the type and scale the kernel expects."""
    if x.quant is None:
        return ctx.constant(f"{name}_bias", np.zeros(c_out, np.float32))
    bias_dt = np.int64 if x.dtype == np.int16 else np.int32
    scale = np.float32(x.quant.scale[0]) * np.broadcast_to(w_quant.scale.astype(np.float32), (c_out,))
    q = QuantParams(scale, np.zeros(c_out, np.int64), QDType.INT32, 0)
    return ctx.constant(f"{name}_bias", np.zeros(c_out, bias_dt), quant=q)


def _slice_q(q, sl):
    if q is None or q.scale.size == 1:
        return q
    return QuantParams(q.scale[sl], q.zero_point[sl], q.dtype, q.axis)


@register("Conv")
def lower_conv(ctx, node) -> None:
    if node.attrs.get("data_layout") != "NHWC":
        raise ctx.unsupported(node, "Conv must be converted to NHWC first "
                                    "(edgeq.ir.passes.convert_layout)")
    x = ctx.tensor(node.inputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, INT_ACTIVATIONS, "CONV_2D")
    w_ir = ctx.ir(node.inputs[1])
    if w_ir.data is None:
        raise ctx.unsupported(node, "TFLite convolutions need a constant filter")
    depthwise = bool(node.attrs.get("depthwise", False))
    w_data, w_quant = w_ir.data, w_ir.quant
    strides, dil, pb, pe = conv_geometry(node, x.shape[1:-1], w_data.shape[1:-1])
    out = ctx.tensor(node.outputs[0])
    b_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else ""

    one_d = len(x.shape) == 3
    if one_d:  # [N, W, C] -> [N, 1, W, C]; filters gain a unit H axis
        x = reshape(ctx, x, (x.shape[0], 1, *x.shape[1:]))
        w_data = np.expand_dims(w_data, 1)
        if w_quant is not None and w_quant.axis is not None and w_quant.axis >= 1:
            w_quant = QuantParams(w_quant.scale, w_quant.zero_point, w_quant.dtype, w_quant.axis + 1)
        strides, dil, pb, pe = [1, *strides], [1, *dil], [0, *pb], [0, *pe]
        w = ctx.constant(f"{node.inputs[1]}_2d", w_data, quant=w_quant)
        y = ctx.new(f"{out.name}_2d", out.dtype, (out.shape[0], 1, *out.shape[1:]), out.quant)
    else:
        w = ctx.tensor(node.inputs[1])
        y = out

    padding = choose_padding(x.shape[1:3], w_data.shape[1:3], strides, dil, pb, pe)
    if padding is None:
        x = pad_tensor(ctx, x, pb, pe)
        padding = Padding.VALID
    c_out = y.shape[-1]
    b = ctx.tensor(b_name) if b_name else zero_bias(ctx, node.name, x, w_quant, c_out)
    target, act, finish = fused_into(ctx, node, y)
    geometry = dict(padding=padding, strideH=strides[0], strideW=strides[1],
                    dilationHFactor=dil[0], dilationWFactor=dil[1], fusedActivationFunction=act)
    group = int(node.attrs.get("group", 1))
    if depthwise:
        o = opts("DepthwiseConv2DOptions", depthMultiplier=c_out // x.shape[-1], **geometry)
        ctx.op(B.DEPTHWISE_CONV_2D, [x, w, b], [target], o)
    elif group == 1:
        ctx.op(B.CONV_2D, [x, w, b], [target], opts("Conv2DOptions", **geometry))
    else:
        _grouped(ctx, node, x, w_data, w_quant, b_name, target, group, geometry)
    finish()
    if one_d:
        reshape(ctx, y, out.shape, out=out)


def _grouped(ctx, node, x, w_data, w_quant, b_name, y, group, geometry) -> None:
    """Grouped conv as SPLIT -> one CONV_2D per group -> CONCATENATION on channels."""
    c_in, c_out = x.shape[-1], y.shape[-1]
    if c_in % group or c_out % group:
        raise ctx.unsupported(node, f"group={group} does not divide the channel counts "
                                    f"({c_in} in, {c_out} out)")
    cin_g, cout_g = c_in // group, c_out // group
    parts = [ctx.new(f"{x.name}_g{i}", x.dtype, (*x.shape[:-1], cin_g), x.quant) for i in range(group)]
    axis = ctx.constant(f"{node.name}_split_axis", np.array(3, np.int32))
    ctx.op(B.SPLIT, [axis, x], parts, opts("SplitOptions", numSplits=group))
    b_ir = ctx.ir(b_name) if b_name else None
    outs = []
    for i in range(group):
        sl = slice(i * cout_g, (i + 1) * cout_g)
        wi = ctx.constant(f"{node.inputs[1]}_g{i}", w_data[sl], quant=_slice_q(w_quant, sl))
        if b_ir is not None:
            bi = ctx.constant(f"{b_name}_g{i}", b_ir.data[sl], quant=_slice_q(b_ir.quant, sl))
        else:
            bi = zero_bias(ctx, f"{node.name}_g{i}", parts[i], _slice_q(w_quant, sl) or w_quant, cout_g)
        yi = ctx.new(f"{y.name}_g{i}", y.dtype, (*y.shape[:-1], cout_g), y.quant)
        ctx.op(B.CONV_2D, [parts[i], wi, bi], [yi], opts("Conv2DOptions", **geometry))
        outs.append(yi)
    ctx.op(B.CONCATENATION, outs, [y], opts("ConcatenationOptions", axis=3))
