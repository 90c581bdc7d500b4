"""Helpers shared by the lowerings: fused activations, padding, dtype checks."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from edgeq_tflite.emit.schema import Activation, BuiltinOperator as B, Padding

INT_ACTIVATIONS = (np.dtype(np.int8), np.dtype(np.int16))


def real_clamp(node) -> tuple[float, float]:
    lo = node.attrs.get("act_min")
    hi = node.attrs.get("act_max")
    return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def quantized_range(info, lo: float, hi: float) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` (tensorflow/lite/kernels/kernel_util.cc):
    ``zp + TfLiteRound(f / scale)`` in float32, intersected with the storage type's
    full range (the kernel uses ``numeric_limits``, so -32768 for int16)."""
    from edgeq.sdk import calculate_activation_range_quantized

    info_min, info_max = int(np.iinfo(info.dtype).min), int(np.iinfo(info.dtype).max)
    return calculate_activation_range_quantized(
        None if lo == -math.inf else lo, None if hi == math.inf else hi,
        float(info.quant.scale[0]), int(info.quant.zero_point[0]), info_min, info_max)


def fused(ctx, node, out_name: str) -> tuple:
    """``(tensor_to_write, ActivationFunctionType, finish)`` for an op with a fused clamp.

    NONE/RELU/RELU6/RELU_N1_TO_1 are fused into the op. Any other clamp is applied by
    MAXIMUM/MINIMUM against constants after the op (``finish()`` emits them), unless
    the quantized output range already contains it.
    """
    return fused_into(ctx, node, ctx.tensor(out_name))


def fused_into(ctx, node, out) -> tuple:
    """:func:`fused` for an already emitted output tensor ``out``."""
    lo, hi = real_clamp(node)
    table = {(-math.inf, math.inf): Activation.NONE, (0.0, math.inf): Activation.RELU,
             (0.0, 6.0): Activation.RELU6, (-1.0, 1.0): Activation.RELU_N1_TO_1}
    if (lo, hi) in table:
        return out, table[(lo, hi)], lambda: None
    if out.quant is not None:
        qlo, qhi = quantized_range(out, lo, hi)
        full = quantized_range(out, -math.inf, math.inf)
        if (qlo, qhi) == full:
            return out, Activation.NONE, lambda: None
        bounds = (qlo if qlo != full[0] else None, qhi if qhi != full[1] else None)
    else:
        bounds = (lo if lo != -math.inf else None, hi if hi != math.inf else None)
    tmp = ctx.new(f"{out.name}_unclamped", out.dtype, out.shape, out.quant)

    def finish() -> None:
        clamp(ctx, tmp, out, *bounds)

    return tmp, Activation.NONE, finish


def clamp(ctx, x, out, lo, hi) -> None:
    """``out = min(max(x, lo), hi)`` with MAXIMUM/MINIMUM (bounds in ``x``'s storage
    values; ``None`` = unbounded). x and out share quantization (same-scale ops)."""
    cur = x
    if lo is not None:
        dst = out if hi is None else ctx.new(f"{out.name}_lo", out.dtype, out.shape, out.quant)
        c = ctx.constant(f"{out.name}_min", np.array([lo], dtype=x.dtype), quant=x.quant)
        ctx.op(B.MAXIMUM, [cur, c], [dst])
        cur = dst
    if hi is not None:
        c = ctx.constant(f"{out.name}_max", np.array([hi], dtype=x.dtype), quant=x.quant)
        ctx.op(B.MINIMUM, [cur, c], [out])


def same_quant(a, b) -> bool:
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None
    return (np.array_equal(a.quant.scale, b.quant.scale)
            and np.array_equal(a.quant.zero_point, b.quant.zero_point))


def require_same_quant(ctx, node, a, b, builtin_name: str) -> None:
    """Same-scale builtins copy or compare raw integers: they ignore quant params."""
    if not same_quant(a, b):
        raise ctx.unsupported(node, f"TFLite {builtin_name} does not rescale: input "
                                    f"'{a.name}' and output '{b.name}' must share scale and zero "
                                    "point (quantize with the TFLite QuantSpec)")


def require_dtypes(ctx, node, info, allowed, builtin_name: str) -> None:
    if np.dtype(info.dtype) not in tuple(np.dtype(d) for d in allowed):
        names = ", ".join(np.dtype(d).name for d in allowed)
        raise ctx.unsupported(node, f"TFLite {builtin_name} has no {np.dtype(info.dtype).name} "
                                    f"kernel (supported: {names}); quantize this node to one "
                                    "of those types or let it fall back to float")


def same_padding(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TFLite SAME padding of one spatial axis (tensorflow/lite/kernels/padding.h):
    total = max((ceil(size/s) - 1)·s + (k-1)·d + 1 - size, 0), the extra pixel after."""
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def choose_padding(in_hw, kernel, strides, dilations, pads_begin, pads_end) -> int | None:
    """Padding.VALID / Padding.SAME when the explicit pads match, else None."""
    if all(p == 0 for p in (*pads_begin, *pads_end)):
        return Padding.VALID
    for size, k, s, d, b, e in zip(in_hw, kernel, strides, dilations, pads_begin, pads_end):
        if (b, e) != same_padding(size, k, s, d):
            return None
    return Padding.SAME


def pad_tensor(ctx, x, pads_begin, pads_end, *, value=None):
    """Emit PAD (zero / zero point) or PADV2 (``value`` in x's storage units) over the
    spatial axes of an NHWC tensor; returns the padded tensor."""
    rank = len(x.shape)
    spatial = rank - 2
    paddings = [[0, 0]] + [[int(b), int(e)] for b, e in zip(pads_begin, pads_end)] + [[0, 0]]
    assert len(paddings) == rank
    shape = (x.shape[0], *(x.shape[1 + i] + pads_begin[i] + pads_end[i] for i in range(spatial)),
             x.shape[-1])
    out = ctx.new(f"{x.name}_padded", x.dtype, shape, x.quant)
    pads = ctx.constant(f"{x.name}_paddings", np.array(paddings, np.int32))
    if value is None:
        ctx.op(B.PAD, [x, pads], [out], _opts("PadOptions"))
    else:
        v = ctx.constant(f"{x.name}_pad_value", np.array([value], x.dtype), quant=x.quant)
        ctx.op(B.PADV2, [x, pads, v], [out], _opts("PadV2Options"))
    return out


def _opts(name: str, **fields):
    from edgeq_tflite.emit.schema import schema

    o = getattr(schema, name + "T")()
    for k, v in fields.items():
        setattr(o, k, v)
    return o


opts: Callable = _opts


def reshape(ctx, x, shape, out=None):
    """RESHAPE ``x`` to ``shape`` (the new shape as an int32 input tensor)."""
    shape = tuple(int(d) for d in shape)
    if out is None:
        out = ctx.new(f"{x.name}_reshaped", x.dtype, shape, x.quant)
    s = ctx.int32_vector(f"{out.name}_shape", shape)
    ctx.op(B.RESHAPE, [x, s], [out], None)
    return out


def unfused(ctx, node, out_name: str) -> tuple:
    """``(tensor_to_write, finish)`` for a builtin without a fused activation: a clamp
    attr becomes MAXIMUM/MINIMUM after it (in the quantized domain, with the bounds of
    ``CalculateActivationRangeQuantized``)."""
    out = ctx.tensor(out_name)
    lo, hi = real_clamp(node)
    if (lo, hi) == (-math.inf, math.inf):
        return out, lambda: None
    if out.quant is not None:
        qlo, qhi = quantized_range(out, lo, hi)
        full = quantized_range(out, -math.inf, math.inf)
        if (qlo, qhi) == full:
            return out, lambda: None
        bounds = (qlo if qlo != full[0] else None, qhi if qhi != full[1] else None)
    else:
        bounds = (None if lo == -math.inf else lo, None if hi == math.inf else hi)
    tmp = ctx.new(f"{out.name}_unclamped", out.dtype, out.shape, out.quant)
    return tmp, lambda: clamp(ctx, tmp, out, *bounds)
