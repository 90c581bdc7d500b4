"""FullyConnected (TFLite FULLY_CONNECTED, keep_num_dims): ``Y = X @ W.T + B`` over the
last axis of ``X``, ``W[out, in]``.

LiteRT's reference FULLY_CONNECTED (kernels/fully_connected.cc ``FullyConnectedInt8`` /
``FullyConnectedPerChannelInt8`` / ``…Int16`` with ``kReference``) calls the
*float-scale* overloads of ``reference_integer_ops::FullyConnected[PerChannel]``
(reference/integer_ops/fully_connected.h):

* ``acc = Σ_d (w[o, d] − zp_w) · (x[d] − zp_in)`` plus the bias, in the bias type
  (int32 for int8 activations — wrapped like C —, int32 or int64 for 16x8);
* ``acc_scaled = static_cast<int32>(round(double(acc) · eff[o]))`` with
  ``eff[o] = double(s_in) · double(s_w[o]) / double(s_out)`` — a *single* rounding, half
  away from zero, not ``MultiplyByQuantizedMultiplier``. (The optimized/XNNPACK kernels
  use the fixed-point multiplier, so they can differ from the reference by one LSB on
  near-ties; the simulator follows the reference.)
* ``+ zp_out`` and the fused activation clamp.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, prepared, require_bias_dtype,
    require_int, require_symmetric_int16, unsupported)
from edgeq.interp.integer_ops.conv import exact_float_type
from edgeq.quantize.arith.fixed_point import round_half_away, wrap_int32

_ACT = (np.dtype(np.int8), np.dtype(np.int16))


def effective_scales(node, qx, qw, qo, n_out: int) -> tuple[np.ndarray, int]:
    """``(eff[o], zp_w)``: the double effective output scale per output channel."""
    s_in, _ = per_tensor(node, qx, "the input")
    s_out, _ = per_tensor(node, qo, "the output")
    if qw.scale.size not in (1, n_out):
        raise unsupported(node, f"weight has {qw.scale.size} scales for {n_out} output channels")
    zp_w = 0
    if qw.scale.size == 1:
        zp_w = int(qw.zero_point[0])  # the per-tensor kernel applies weights_offset
    elif np.any(qw.zero_point != 0):
        raise unsupported(node, "per-channel weights must be symmetric (zero point 0)")
    ws = np.broadcast_to(qw.scale.astype(np.float64), (n_out,))
    return np.float64(s_in) * ws / np.float64(s_out), zp_w


def scale_round(acc: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """``static_cast<int32>(round(double(acc) * eff))`` (round: half away from zero)."""
    return round_half_away(acc.astype(np.float64) * eff).astype(np.int64)


@INTEGER_OPS.register("FullyConnected")
def fully_connected(node, inputs, ctx):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    require_int(node, [x], _ACT)
    require_int(node, [w], (np.dtype(np.int8),))
    qx, qw, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    require_symmetric_int16(node, x, qx, qo)
    if qo.dtype.numpy != x.dtype or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise unsupported(node, f"needs X[..., {w.shape[-1] if w.ndim == 2 else '?'}], W[out, in] "
                                f"and an output of the input dtype; got X{x.shape}, W{w.shape}, "
                                f"output {qo.dtype.value}", [x, w])
    require_bias_dtype(node, x, w, b)
    n_out = w.shape[0]

    def prepare():
        eff, zp_w = effective_scales(node, qx, qw, qo, n_out)
        wi = w.astype(np.int64) - zp_w
        wt = {np.float32: wi.T.astype(np.float32), np.float64: wi.T.astype(np.float64)}
        return eff, wt, int(np.abs(wi).sum(axis=1).max(initial=0)), fused_range(node, qo)

    eff, wts, w_abs_sum, (lo, hi) = prepared(ctx, node, prepare)
    xi = x.reshape(-1, x.shape[-1]).astype(np.int32) - int(qx.zero_point[0])
    # exact BLAS: float32 while every partial sum stays below 2^24, else float64 (2^53)
    ftype = exact_float_type(int(np.abs(xi).max(initial=0)), w_abs_sum)
    acc = np.rint(xi.astype(ftype) @ wts[ftype]).astype(np.int64)
    if b is not None:
        acc += b.astype(np.int64)
    # the accumulator is BiasType: int32 except for 16x8 with an int64 (or no) bias
    if not (x.dtype == np.int16 and (b is None or b.dtype == np.int64)):
        acc = wrap_int32(acc)
    y = scale_round(acc, eff) + int(qo.zero_point[0])
    return [clamp_cast(y, lo, hi, x.dtype).reshape(x.shape[:-1] + (n_out,))]
