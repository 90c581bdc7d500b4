"""Conv (TFLite CONV_2D; DEPTHWISE_CONV_2D when ``group`` equals the input channels).

Arithmetic of ``reference_integer_ops::ConvPerChannel`` / ``DepthwiseConvPerChannel``
(kernels/internal/reference/integer_ops/conv.h, depthwise_conv.h):

* ``acc = Σ w · (x − zp_in)`` over the taps inside the input (taps in the padding are
  skipped, i.e. they contribute as if the input were ``zp_in``), plus the bias;
* int8 activations: int32 accumulator, ``MultiplyByQuantizedMultiplier(int32)``;
  int16 activations (16x8): the accumulator has the bias type — int64 bias: int64
  accumulator and ``MultiplyByQuantizedMultiplier(int64)`` (16-bit reduced multiplier,
  single rounding); int32 bias: int32 accumulator and the int32 (double-rounding) MBQM
  (depthwise 16x8 always takes the int64 path);
* ``+ zp_out`` then the fused activation clamp (``CalculateActivationRangeQuantized``).

Per-channel multipliers come from ``PopulateConvolutionQuantizationParams``
(kernel_util.cc): ``QuantizeMultiplier(double(s_in) · double(s_w[c]) / double(s_out))``;
a per-tensor weight scale is broadcast to every output channel the same way.

Layout is edgeq's NCHW (any number of spatial axes): ``X[N, C, ...]``,
``W[O, C/group, k...]`` (depthwise: ``W[C·m, 1, k...]``, output channel ``o`` reads input
channel ``o // m`` exactly as TFLite's ``oc = ic · m + j``), ``B[O]``. Accumulation uses
BLAS on integer-valued floats: float32 when ``max|x − zp| · max_o Σ|w[o]| < 2^24`` (then
every partial sum, in any order, is an exactly representable integer), float64 otherwise
(exact below 2^53).
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops import _window
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, prepared, require_bias_dtype,
    require_int, require_symmetric_int16, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_int64,
    quantize_multiplier, wrap_int32)

_ACT = (np.dtype(np.int8), np.dtype(np.int16))


def channel_multipliers(node, qx, qw, qo, n_out: int):
    """Per-output-channel ``(M0, shift)`` as TFLite's conv/FC Prepare computes them."""
    s_in, _ = per_tensor(node, qx, "the input")
    s_out, _ = per_tensor(node, qo, "the output")
    if qw.scale.size not in (1, n_out):
        raise unsupported(node, f"weight has {qw.scale.size} scales for {n_out} output channels")
    if np.any(qw.zero_point != 0):
        raise unsupported(node, "weights must be symmetric (zero point 0), as TFLite's "
                                "per-channel kernels require")
    ws = np.broadcast_to(qw.scale.astype(np.float64), (n_out,))
    return quantize_multiplier(np.float64(s_in) * ws / np.float64(s_out))


def requantize_acc(acc: np.ndarray, acc64: bool, m, shift, axis: int, wrap: bool = True) -> np.ndarray:
    """``acc64``: MBQM(int64) (16x8 kernels with int64 bias); otherwise the accumulator is
    the C ``int32_t`` (wrapped; ``wrap=False`` when it provably fits) and MBQM(int32),
    double rounding."""
    shape = [1] * acc.ndim
    shape[axis] = -1
    m = np.asarray(m).reshape(shape)
    shift = np.asarray(shift).reshape(shape)
    if acc64:
        return multiply_by_quantized_multiplier_int64(acc, m, shift)
    if wrap:
        acc = wrap_int32(acc)
    return multiply_by_quantized_multiplier(acc, m, shift)


def exact_float_type(max_abs_x: int, w_abs_sum_max: int):
    """float32 when every partial sum stays below 2^24 (exact), else float64."""
    return np.float32 if max_abs_x * w_abs_sum_max < (1 << 24) else np.float64


def accumulate(xs: np.ndarray, wf: np.ndarray, win, group: int) -> np.ndarray:
    """Σ over taps of the grouped convolution of ``xs`` (float64, offset already removed).

    ``xs``: [N, C, *spatial]; ``wf``: [O, C/group, *k] float64. Returns int64 [N, O, *out].
    One 2-D BLAS product per tap and group (no im2col buffer); depthwise taps are a
    broadcast multiply.
    """
    n = xs.shape[0]
    o, cg = wf.shape[:2]
    og = o // group
    xp = win.pad(xs, 0.0)
    p = int(np.prod(win.out))
    wt = wf.reshape(group, og, cg, -1)
    ftype = xs.dtype
    if cg == 1:  # depthwise: acc[n, g, j, p] += w[g, j, t] * x[n, g, p]
        acc = np.zeros((n, group, og, p), ftype)
        for t, sl in win.taps():
            xt = xp[(slice(None), slice(None)) + sl].reshape(n, group, 1, p)
            acc += wt[None, :, :, 0, t, None] * xt
        return np.rint(acc).astype(np.int64).reshape((n, o) + win.out)
    acc = np.zeros((group, og, n * p), ftype)
    for t, sl in win.taps():
        xt = xp[(slice(None), slice(None)) + sl].reshape(n, group, cg, p)
        for g in range(group):
            cols = xt[:, g].transpose(1, 0, 2).reshape(cg, n * p) if n > 1 else xt[0, g]
            acc[g] += wt[g, :, :, t] @ cols
    acc = acc.reshape(group, og, n, p).transpose(2, 0, 1, 3)
    return np.rint(acc).astype(np.int64).reshape((n, o) + win.out)


@INTEGER_OPS.register("Conv")
def conv(node, inputs, ctx):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    require_int(node, [x], _ACT)
    require_int(node, [w], (np.dtype(np.int8),))
    qx, qw, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    require_symmetric_int16(node, x, qx, qo)
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input dtype", [x, w])
    group = int(node.attrs.get("group", 1))
    if x.shape[1] != w.shape[1] * group or w.shape[0] % group:
        raise unsupported(node, f"input channels {x.shape[1]}, weight {w.shape} and group "
                                f"{group} do not match", [x, w])
    require_bias_dtype(node, x, w, b)
    o = w.shape[0]

    def prepare():
        m, shift = channel_multipliers(node, qx, qw, qo, o)
        w_abs_sum = int(np.abs(w.astype(np.int64)).reshape(o, -1).sum(axis=1).max())
        return (m, shift, {np.float32: w.astype(np.float32), np.float64: w.astype(np.float64)},
                w_abs_sum, fused_range(node, qo))

    m, shift, wfs, w_abs_sum, (lo, hi) = prepared(ctx, node, prepare)
    zp_in = int(qx.zero_point[0])
    win = _window.resolve(node, x.shape[2:], w.shape[2:])
    xi = x.astype(np.int32) - zp_in
    max_x = int(np.abs(xi).max(initial=0))
    ftype = exact_float_type(max_x, w_abs_sum)
    acc = accumulate(xi.astype(ftype), wfs[ftype], win, group)
    if b is not None:
        acc += b.astype(np.int64).reshape((1, o) + (1,) * len(win.out))
    # 16x8: CONV_2D's accumulator type follows the bias type (conv.cc
    # EvalQuantizedPerChannel16x8 picks ConvPerChannel<int32> or <int64>); the depthwise
    # kernel always accumulates in int64 (DepthwiseConvPerChannel<BiasType>).
    depthwise = group == x.shape[1] and w.shape[1] == 1 and group > 1
    if depthwise and x.dtype == np.int16 and b is not None and b.dtype != np.int64:
        raise unsupported(node, "a 16x8 depthwise conv needs an int64 bias (TFLite "
                                "depthwise_conv.cc rejects int32)", [x, w, b])
    acc64 = x.dtype == np.int16 and (depthwise or b is None or b.dtype == np.int64)
    max_b = int(np.abs(b.astype(np.int64)).max(initial=0)) if b is not None else 0
    wrap = max_x * w_abs_sum + max_b >= (1 << 31)  # only then can the int32 sum wrap
    y = requantize_acc(acc, acc64, m, shift, axis=1, wrap=wrap) + int(qo.zero_point[0])
    return [clamp_cast(y, lo, hi, x.dtype)]
