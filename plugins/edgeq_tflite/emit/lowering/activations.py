"""Unary activations and math (tensorflow/lite/kernels/activations.cc, elementwise.cc,
gelu.cc).

* Relu -> RELU; Clip -> RELU / RELU6 / RELU_N1_TO_1 / RELU_0_TO_1 when the bounds are
  those, else MAXIMUM+MINIMUM against the bounds quantized like
  ``CalculateActivationRangeQuantized`` (same scale in and out). RELU* requantize
  from the input to the output scale; MAXIMUM/MINIMUM do not.
* Sigmoid -> LOGISTIC and Tanh -> TANH need the fixed output quantization their
  ``Prepare`` checks (int8: 1/256, -128 and 1/128, 0; int16: 1/32768, 0).
* HardSwish -> HARD_SWISH (int8 only), Gelu -> GELU (``approximate`` for the tanh
  form), Rsqrt -> RSQRT (float: MAXIMUM with the IR op's floor first), LeakyRelu -> LEAKY_RELU.
* Float-only ops (Sqrt, Exp, Log, Abs, Neg, Silu, HardSigmoid) lower for float graphs
  and float fallback; quantized they are an UnsupportedOpError.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.sdk import RSQRT_FLOOR

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, clamp, opts, quantized_range,
                                                require_dtypes, require_same_quant, reshape,
                                                same_quant, unfused)
from edgeq_tflite.emit.schema import BuiltinOperator as B

INT8_ONLY = (np.int8,)
FIXED = {  # builtin -> {dtype: (scale, zero_point)}
    B.LOGISTIC: {np.dtype(np.int8): (1 / 256, -128), np.dtype(np.int16): (1 / 32768, 0)},
    B.TANH: {np.dtype(np.int8): (1 / 128, 0), np.dtype(np.int16): (1 / 32768, 0)},
}


def _unary(ctx, node, builtin, label, allowed=INT_ACTIVATIONS, options=None) -> None:
    x = ctx.tensor(node.inputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, allowed, label)
    y, finish = unfused(ctx, node, node.outputs[0])
    if builtin in FIXED and y.quant is not None:
        want = FIXED[builtin].get(np.dtype(y.dtype))
        got = (float(y.quant.scale[0]), int(y.quant.zero_point[0]))
        if want is None or not (math.isclose(got[0], want[0], rel_tol=1e-6) and got[1] == want[1]):
            raise ctx.unsupported(node, f"TFLite {label} needs output quantization {want} for "
                                        f"{np.dtype(y.dtype).name}; got {got}")
    ctx.op(builtin, [x], [y], options)
    finish()


def _float_only(ctx, node, label: str) -> None:
    if any(ctx.quantized(i) for i in node.inputs if i) or ctx.quantized(node.outputs[0]):
        raise ctx.unsupported(node, f"TFLite has no int8/int16 kernel for {label}; let this node "
                                    "fall back to float or have the quantizer decompose it")


@register("Relu")
def lower_relu(ctx, node) -> None:
    _unary(ctx, node, B.RELU, "RELU")


@register("LeakyRelu")
def lower_leaky_relu(ctx, node) -> None:
    _unary(ctx, node, B.LEAKY_RELU, "LEAKY_RELU",
           options=opts("LeakyReluOptions", alpha=float(node.attrs.get("alpha", 0.01))))


@register("Sigmoid")
def lower_sigmoid(ctx, node) -> None:
    _unary(ctx, node, B.LOGISTIC, "LOGISTIC")


@register("Tanh")
def lower_tanh(ctx, node) -> None:
    _unary(ctx, node, B.TANH, "TANH")


@register("HardSwish")
def lower_hard_swish(ctx, node) -> None:
    _unary(ctx, node, B.HARD_SWISH, "HARD_SWISH", allowed=INT8_ONLY, options=opts("HardSwishOptions"))


@register("Gelu")
def lower_gelu(ctx, node) -> None:
    approx = node.attrs.get("approximate", "none")
    approx = approx.decode() if isinstance(approx, bytes) else approx
    _unary(ctx, node, B.GELU, "GELU", options=opts("GeluOptions", approximate=approx == "tanh"))


@register("Rsqrt")
def lower_rsqrt(ctx, node) -> None:
    if ctx.quantized(node.inputs[0]):
        _unary(ctx, node, B.RSQRT, "RSQRT")
        return
    # float: the IR op floors its argument (edgeq.sdk.RSQRT_FLOOR), so that a lowered
    # sqrt(0) = 0 · rsqrt(0) is 0 and not NaN
    x = ctx.tensor(node.inputs[0])
    floored = ctx.new(f"{node.outputs[0]}_floored", np.float32, x.shape)
    ctx.op(B.MAXIMUM, [x, ctx.constant(f"{node.outputs[0]}_floor",
                                       np.array([RSQRT_FLOOR], np.float32))], [floored])
    y, finish = unfused(ctx, node, node.outputs[0])
    ctx.op(B.RSQRT, [floored], [y])
    finish()


_FLOAT_UNARY = {"Sqrt": B.SQRT, "Exp": B.EXP, "Log": B.LOG, "Abs": B.ABS, "Neg": B.NEG}


@register(*_FLOAT_UNARY)
def lower_float_unary(ctx, node) -> None:
    _float_only(ctx, node, node.op_type.upper())
    _unary(ctx, node, _FLOAT_UNARY[node.op_type], node.op_type.upper())


@register("Clip")
def lower_clip(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    lo = ctx.real_const(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
    hi = ctx.real_const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    for name, v in ((1, lo), (2, hi)):
        if len(node.inputs) > name and node.inputs[name] and v is None:
            raise ctx.unsupported(node, "Clip bounds must be constants")
    lo = -math.inf if lo is None else float(np.asarray(lo).reshape(-1)[0])
    hi = math.inf if hi is None else float(np.asarray(hi).reshape(-1)[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, INT_ACTIVATIONS, "RELU")
    table = {(0.0, math.inf): B.RELU, (0.0, 6.0): B.RELU6}
    if x.dtype != np.int16:  # these two have no int16 kernel
        table.update({(-1.0, 1.0): B.RELU_N1_TO_1, (0.0, 1.0): B.RELU_0_TO_1})
    if (lo, hi) in table:
        y, finish = unfused(ctx, node, node.outputs[0])
        ctx.op(table[(lo, hi)], [x], [y])
        finish()
        return
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None and not same_quant(x, y):
        # MAXIMUM/MINIMUM cannot rescale: requantize first (QUANTIZE int->int), then clamp
        # in the output's parameters (the integer simulator's Clip does the same)
        require_dtypes(ctx, node, y, INT_ACTIVATIONS, "QUANTIZE")
        requantized = ctx.new(f"{y.name}_requantized", y.dtype, x.shape, y.quant)
        ctx.op(B.QUANTIZE, [x], [requantized])
        x = requantized
    if x.quant is not None:
        require_same_quant(ctx, node, x, y, "MAXIMUM/MINIMUM")
        qlo, qhi = quantized_range(y, lo, hi)
        full = quantized_range(y, -math.inf, math.inf)
        bounds = (qlo if qlo != full[0] else None, qhi if qhi != full[1] else None)
    else:
        bounds = (None if lo == -math.inf else lo, None if hi == math.inf else hi)
    if bounds == (None, None):
        reshape(ctx, x, y.shape, out=y)
    else:
        clamp(ctx, x, y, *bounds)


@register("Silu")
def lower_silu(ctx, node) -> None:
    _float_only(ctx, node, "SILU (LOGISTIC·x)")
    x = ctx.tensor(node.inputs[0])
    s = ctx.new(f"{node.outputs[0]}_sigmoid", x.dtype, x.shape)
    ctx.op(B.LOGISTIC, [x], [s])
    y, finish = unfused(ctx, node, node.outputs[0])
    ctx.op(B.MUL, [x, s], [y], opts("MulOptions"))
    finish()


@register("HardSigmoid")
def lower_hard_sigmoid(ctx, node) -> None:
    _float_only(ctx, node, "HardSigmoid")
    x = ctx.tensor(node.inputs[0])
    alpha = ctx.constant(f"{node.name}_alpha", np.array([node.attrs.get("alpha", 0.2)], np.float32))
    beta = ctx.constant(f"{node.name}_beta", np.array([node.attrs.get("beta", 0.5)], np.float32))
    t = ctx.new(f"{node.outputs[0]}_scaled", x.dtype, x.shape)
    ctx.op(B.MUL, [x, alpha], [t], opts("MulOptions"))
    u = ctx.new(f"{node.outputs[0]}_shifted", x.dtype, x.shape)
    ctx.op(B.ADD, [t, beta], [u], opts("AddOptions"))
    clamp(ctx, u, ctx.tensor(node.outputs[0]), 0.0, 1.0)


@register("Identity")
def lower_identity(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    out = node.outputs[0]
    if out in ctx.graph.outputs or x.index in ctx.writer.inputs:
        y = ctx.tensor(out)
        if not same_quant(x, y):
            ctx.op(B.QUANTIZE, [x], [y])
        else:
            reshape(ctx, x, y.shape, out=y)
        return
    y_ir = ctx.ir(out)
    if y_ir.quant is not None and x.quant is not None and not (
            np.array_equal(y_ir.quant.scale, x.quant.scale)
            and np.array_equal(y_ir.quant.zero_point, x.quant.zero_point)):
        ctx.op(B.QUANTIZE, [x], [ctx.tensor(out)])
        return
    ctx.alias(out, x)


@register("Cast")
def lower_cast(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        raise ctx.unsupported(node, "Cast of quantized tensors has no TFLite meaning; use "
                                    "Quantize/Dequantize")
    from edgeq_tflite.emit.writer import tflite_type

    ctx.op(B.CAST, [x], [y], opts("CastOptions", inDataType=tflite_type(x.dtype),
                                  outDataType=tflite_type(y.dtype)))
