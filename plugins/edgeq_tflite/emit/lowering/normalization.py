"""Float normalisations, decomposed into TFLite builtins for FP32/FP16 export and float
fallback. A quantized graph expresses LayerNorm with Mean/SquaredDifference/Rsqrt/Mul/
Add nodes itself (the quantizer's decomposition), each lowered by its own module.

* LayerNormalization (ONNX-17, over the axes from ``axis`` to the end):
  ``mean = MEAN(x)``, ``var = MEAN(SQUARED_DIFFERENCE(x, mean))``,
  ``y = (x - mean) · RSQRT(var + eps) · gamma + beta``.
* BatchNormalization (inference): ``y = x · s + (beta - mean · s)`` with
  ``s = gamma / sqrt(var + eps)`` folded into two constants, broadcast on axis 1.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts
from edgeq_tflite.emit.schema import BuiltinOperator as B


def _float_only(ctx, node) -> None:
    if any(ctx.quantized(i) for i in node.inputs if i) or ctx.quantized(node.outputs[0]):
        raise ctx.unsupported(node, f"a quantized {node.op_type} must be decomposed by the quantizer "
                                    "(Mean/SquaredDifference/Rsqrt/Mul/Add) before TFLite export")


@register("LayerNormalization")
def lower_layer_norm(ctx, node) -> None:
    _float_only(ctx, node)
    x = ctx.tensor(node.inputs[0])
    rank = len(x.shape)
    axis = int(node.attrs.get("axis", -1)) % rank
    eps = float(node.attrs.get("epsilon", 1e-5))
    red_shape = tuple(d if i < axis else 1 for i, d in enumerate(x.shape))
    base = node.outputs[0]
    axes = ctx.int32_vector(f"{base}_axes", range(axis, rank))

    def t(name, shape):
        return ctx.new(f"{base}_{name}", np.float32, shape)

    mean, sq, var, var_eps, inv, cen, norm = (t("mean", red_shape), t("sqdiff", x.shape), t("var", red_shape),
                                              t("var_eps", red_shape), t("rstd", red_shape),
                                              t("centered", x.shape), t("normalized", x.shape))
    ctx.op(B.MEAN, [x, axes], [mean], opts("ReducerOptions", keepDims=True))
    ctx.op(B.SQUARED_DIFFERENCE, [x, mean], [sq], opts("SquaredDifferenceOptions"))
    ctx.op(B.MEAN, [sq, axes], [var], opts("ReducerOptions", keepDims=True))
    ctx.op(B.ADD, [var, ctx.constant(f"{base}_eps", np.array([eps], np.float32))], [var_eps],
           opts("AddOptions"))
    ctx.op(B.RSQRT, [var_eps], [inv])
    ctx.op(B.SUB, [x, mean], [cen], opts("SubOptions"))
    ctx.op(B.MUL, [cen, inv], [norm], opts("MulOptions"))
    gamma = node.inputs[1] if len(node.inputs) > 1 and node.inputs[1] else ""
    beta = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else ""
    y = ctx.tensor(base)
    cur = norm
    if gamma:
        dst = y if not beta else t("scaled", x.shape)
        ctx.op(B.MUL, [cur, ctx.tensor(gamma)], [dst], opts("MulOptions"))
        cur = dst
    if beta:
        ctx.op(B.ADD, [cur, ctx.tensor(beta)], [y], opts("AddOptions"))
    elif not gamma:
        from edgeq_tflite.emit.lowering._common import reshape

        reshape(ctx, cur, y.shape, out=y)


@register("BatchNormalization")
def lower_batch_norm(ctx, node) -> None:
    _float_only(ctx, node)
    x = ctx.tensor(node.inputs[0])
    vals = [ctx.const(i) for i in node.inputs[1:5]]
    if any(v is None for v in vals):
        raise ctx.unsupported(node, "BatchNormalization needs constant scale/bias/mean/var")
    gamma, beta, mean, var = (np.asarray(v, np.float64) for v in vals)
    s = gamma / np.sqrt(var + float(node.attrs.get("epsilon", 1e-5)))
    b = beta - mean * s
    layout_nhwc = node.attrs.get("data_layout") == "NHWC"
    shape = (-1,) if layout_nhwc else (-1,) + (1,) * (len(x.shape) - 2)
    base = node.outputs[0]
    scaled = ctx.new(f"{base}_scaled", np.float32, x.shape)
    ctx.op(B.MUL, [x, ctx.constant(f"{base}_scale", s.astype(np.float32).reshape(shape))], [scaled],
           opts("MulOptions"))
    ctx.op(B.ADD, [scaled, ctx.constant(f"{base}_shift", b.astype(np.float32).reshape(shape))],
           [ctx.tensor(base)], opts("AddOptions"))
