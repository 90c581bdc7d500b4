"""AveragePool / MaxPool -> AVERAGE_POOL_2D / MAX_POOL_2D; GlobalAveragePool -> MEAN,
GlobalMaxPool -> REDUCE_MAX (tensorflow/lite/kernels/pooling.cc, reduce.cc).

TFLite's int8/int16 pooling kernels never rescale (reference_integer_ops::AveragePool
divides the integer sum with rounding and reuses the input's quantization), so input
and output must share quantization. Padding:

* pads equal to TFLite SAME -> SAME: the average divides by the number of *valid*
  elements (ONNX ``count_include_pad=0``), the max ignores the padding (ONNX pads with
  -inf) - identical semantics;
* ``count_include_pad=1`` with pads -> PAD (zero point, i.e. real 0) + VALID, so the
  padded zeros are counted;
* other MaxPool pads -> PADV2 with the storage minimum (acts as -inf) + VALID.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, choose_padding, fused_into, opts,
                                                pad_tensor, require_dtypes, require_same_quant,
                                                reshape, unfused)
from edgeq_tflite.emit.lowering.conv import conv_geometry
from edgeq_tflite.emit.schema import BuiltinOperator as B, Padding


def _out_size(size, k, s, padding) -> int:
    if padding == Padding.SAME:
        return -(-size // s)
    return (size - k) // s + 1


@register("AveragePool", "MaxPool")
def lower_pool(ctx, node) -> None:
    is_max = node.op_type == "MaxPool"
    label = "MAX_POOL_2D" if is_max else "AVERAGE_POOL_2D"
    if len([o for o in node.outputs if o]) > 1:
        raise ctx.unsupported(node, "MaxPool with an Indices output has no TFLite builtin")
    if node.attrs.get("data_layout") != "NHWC":
        raise ctx.unsupported(node, "pools must be converted to NHWC first (convert_layout)")
    x = ctx.tensor(node.inputs[0])
    out = ctx.tensor(node.outputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, INT_ACTIVATIONS, label)
        require_same_quant(ctx, node, x, out, label)
    kernel = [int(k) for k in node.attrs["kernel_shape"]]
    if any(int(d) != 1 for d in node.attrs.get("dilations", [1] * len(kernel))):
        raise ctx.unsupported(node, f"{label} has no dilation")
    strides, _, pb, pe = conv_geometry(node, x.shape[1:-1], kernel)
    one_d = len(x.shape) == 3
    if one_d:
        x = reshape(ctx, x, (x.shape[0], 1, *x.shape[1:]))
        kernel, strides, pb, pe = [1, *kernel], [1, *strides], [0, *pb], [0, *pe]
        y = ctx.new(f"{out.name}_2d", out.dtype, (out.shape[0], 1, *out.shape[1:]), out.quant)
    else:
        y = out
    padding = choose_padding(x.shape[1:3], kernel, strides, [1, 1], pb, pe)
    if padding == Padding.SAME and not is_max and int(node.attrs.get("count_include_pad", 0)):
        padding = None  # SAME would exclude the padding from the divisor
    if padding is None:
        if is_max:
            fill = np.iinfo(x.dtype).min if x.quant is not None else np.finfo(np.float32).min
            x = pad_tensor(ctx, x, pb, pe, value=fill)
        elif int(node.attrs.get("count_include_pad", 0)):
            x = pad_tensor(ctx, x, pb, pe)
        else:
            raise ctx.unsupported(node, f"pads {pb + pe} are not TFLite SAME padding and "
                                        "count_include_pad=0; TFLite cannot express this average")
        padding = Padding.VALID
    want = tuple(_out_size(s, k, st, padding) for s, k, st in zip(x.shape[1:3], kernel, strides))
    if want != tuple(y.shape[1:3]):
        raise ctx.unsupported(node, f"output size {tuple(y.shape[1:3])} (ceil_mode?) differs from "
                                    f"what {label} computes {want}")
    target, act, finish = fused_into(ctx, node, y)
    o = opts("Pool2DOptions", padding=padding, strideH=strides[0], strideW=strides[1],
             filterHeight=kernel[0], filterWidth=kernel[1], fusedActivationFunction=act)
    ctx.op(B.MAX_POOL_2D if is_max else B.AVERAGE_POOL_2D, [x], [target], o)
    finish()
    if one_d:
        reshape(ctx, y, out.shape, out=out)


@register("GlobalAveragePool", "GlobalMaxPool")
def lower_global_pool(ctx, node) -> None:
    is_max = node.op_type == "GlobalMaxPool"
    label = "REDUCE_MAX" if is_max else "MEAN"
    if node.attrs.get("data_layout") != "NHWC":
        raise ctx.unsupported(node, "pools must be converted to NHWC first (convert_layout)")
    x = ctx.tensor(node.inputs[0])
    y, finish = unfused(ctx, node, node.outputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, INT_ACTIVATIONS, label)
        if is_max:
            require_same_quant(ctx, node, x, y, label)
    axes = ctx.int32_vector(f"{node.name}_axes", range(1, len(x.shape) - 1))
    ctx.op(B.REDUCE_MAX if is_max else B.MEAN, [x, axes], [y], opts("ReducerOptions", keepDims=True))
    finish()
