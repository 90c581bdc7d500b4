"""Unary activations and Softmax (MIL activation / elementwise_unary ops).

HardSwish is ``x · sigmoid_hard(x, α=1/6, β=1/2)`` (MIL has no hard_swish; its
``sigmoid_hard`` is ``min(max(α·x + β, 0), 1)``, ONNX HardSigmoid's definition), and
HardSigmoid is ``sigmoid_hard`` itself. Gelu keeps its form: ``EXACT`` (erf) or
``TANH_APPROXIMATION`` for ONNX ``approximate="tanh"``. Softplus is MIL ``softplus``
and Mish ``x · tanh(softplus(x))`` (MIL has no mish), in fp16 between the int8
dequantize and quantize like every activation.
"""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS

_UNARY = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Exp": "exp", "Log": "log",
          "Abs": "abs", "Sqrt": "sqrt", "Erf": "erf", "Silu": "silu", "Reciprocal": "inverse",
          "Softplus": "softplus"}


@LOWERINGS.register(*_UNARY)
def lower_unary(ctx, node):
    ctx.finish(node, getattr(ctx.mb, _UNARY[node.op_type])(x=ctx.value(node.inputs[0])))


@LOWERINGS.register("Mish")
def lower_mish(ctx, node):
    x = ctx.value(node.inputs[0])
    ctx.finish(node, ctx.mb.mul(x=x, y=ctx.mb.tanh(x=ctx.mb.softplus(x=x))))


@LOWERINGS.register("Neg")
def lower_neg(ctx, node):
    ctx.finish(node, ctx.mb.mul(x=ctx.value(node.inputs[0]), y=np.float32(-1)))


@LOWERINGS.register("Rsqrt")
def lower_rsqrt(ctx, node):
    # MIL rsqrt computes 1/sqrt(x + epsilon). The IR's Rsqrt has no epsilon (a LayerNorm
    # decomposition adds its own), but the program runs in fp16, where a zero input
    # would give inf and 0·inf = NaN in the windowed x·rsqrt(x) of a square root
    # (edgeq/quantize/sqrt16.py; the integer kernel's table is finite at 0). 2^-24, the
    # smallest fp16 subnormal, keeps rsqrt(0) = 4096 finite and moves no input above 1e-5
    # by more than 0.3 %.
    ctx.finish(node, ctx.mb.rsqrt(x=ctx.value(node.inputs[0]), epsilon=np.float32(2.0 ** -24)))


@LOWERINGS.register("Gelu")
def lower_gelu(ctx, node):
    mode = "TANH_APPROXIMATION" if node.attrs.get("approximate", "none") == "tanh" else "EXACT"
    ctx.finish(node, ctx.mb.gelu(x=ctx.value(node.inputs[0]), mode=mode))


@LOWERINGS.register("LeakyRelu")
def lower_leaky_relu(ctx, node):
    alpha = float(node.attrs.get("alpha", 0.01))
    ctx.finish(node, ctx.mb.leaky_relu(x=ctx.value(node.inputs[0]), alpha=np.float32(alpha)))


@LOWERINGS.register("HardSigmoid")
def lower_hard_sigmoid(ctx, node):
    a, b = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    ctx.finish(node, ctx.mb.sigmoid_hard(x=ctx.value(node.inputs[0]), alpha=np.float32(a),
                                         beta=np.float32(b)))


@LOWERINGS.register("HardSwish")
def lower_hard_swish(ctx, node):
    x = ctx.value(node.inputs[0])
    gate = ctx.mb.sigmoid_hard(x=x, alpha=np.float32(1 / 6), beta=np.float32(0.5))
    ctx.finish(node, ctx.mb.mul(x=x, y=gate))


@LOWERINGS.register("Clip")
def lower_clip(ctx, node):
    """Standalone Clip: bounds are float32 constants in real units (docs/quantization.md)."""
    x = ctx.value(node.inputs[0])
    lo = ctx.real_const(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None
    hi = ctx.real_const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    mb = ctx.mb
    if lo is not None and hi is not None:
        y = mb.clip(x=x, alpha=np.float32(lo.reshape(-1)[0]), beta=np.float32(hi.reshape(-1)[0]))
    elif lo is not None:
        y = mb.maximum(x=x, y=np.float32(lo.reshape(-1)[0]))
    elif hi is not None:
        y = mb.minimum(x=x, y=np.float32(hi.reshape(-1)[0]))
    else:
        y = mb.identity(x=x)
    ctx.finish(node, y)


@LOWERINGS.register("Softmax", "LogSoftmax")
def lower_softmax(ctx, node):
    x = ctx.value(node.inputs[0])
    axis = int(node.attrs.get("axis", -1))
    y = ctx.mb.softmax(x=x, axis=axis)
    if node.op_type == "LogSoftmax":
        y = ctx.mb.log(x=y)
    ctx.finish(node, y)
