"""The quantization scheme: scales and zero points from ranges, weight and bias
quantization. Pure functions over numpy arrays; the graph-level decisions live in
:mod:`edgeq.quantize.pipeline.graph_builder`. The rules are those of docs/quantization.md.

* Asymmetric int8 activations: TFLite's ``GetAsymmetricQuantizationParams``
  (tensorflow/lite/tools/optimize/quantization_utils.cc): widen the range to contain 0,
  ``scale = (max - min) / (qmax - qmin)``, zero point ``round(qmin - min / scale)``
  clamped to ``[qmin, qmax]`` (so 0.0 is exactly representable).
* Symmetric int16 activations: ``scale = max(|min|, |max|) / 32767``, zero point 0
  (TFLite 16x8 kernels require zero point 0, see ``kernels/add.cc`` int16 checks).
* Weights: int8 symmetric per output channel in ``[-127, 127]``
  (``SymmetricPerChannelQuantization`` in quantization_utils.cc), each channel's
  clipping threshold searched to minimise the squared weight error (``clip="mse"``).
* Bias: ``scale = s_in * s_w[c]``, zero point 0, int32 (int64 for 16x8 Conv/FC,
  TFLite's ``SymmetricPerChannelBiasQuantize``). A weight channel that is all zero or
  nearly so (normal in trained networks) would give a bias scale so small that its
  bias overflows; :func:`widen_for_bias` raises such a channel's weight scale until the
  bias fits, as the TFLite converter does (``AdjustWeightsForBiasScale``).
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.errors import QuantizationError
from edgeq.types import QDType, QuantParams

log = logging.getLogger(__name__)

#: smallest scale ever produced; a tensor that is identically 0 gets this range
MIN_RANGE = 1e-6
WEIGHT_QMAX = 127


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round to nearest, ties away from zero (TFLite's ``TfLiteRound``; np.round is half-even)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def levels(dtype: QDType, symmetric: bool) -> int:
    """Number of quantization steps an observer should assume for ``dtype``."""
    if symmetric:
        return 2 * dtype.qmax
    return dtype.qmax - dtype.qmin


def is_symmetric(dtype: QDType) -> bool:
    """Activation convention: int16 is symmetric (16x8), int8/uint8 asymmetric."""
    return QDType(dtype) == QDType.INT16


def activation_params(lo: float, hi: float, dtype: QDType = QDType.INT8) -> QuantParams:
    """Per-tensor activation params for the real range ``[lo, hi]`` (see module docstring)."""
    dtype = QDType(dtype)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise QuantizationError(f"non-finite range [{lo}, {hi}]: an infinite value reached a "
                                f"quantized tensor; clamp it (see docs/quantization.md)")
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if is_symmetric(dtype):
        t = max(-lo, hi, MIN_RANGE)
        return QuantParams(np.float32(t / dtype.qmax), 0, dtype)
    if hi - lo < MIN_RANGE:
        hi = lo + MIN_RANGE
    qmin, qmax = dtype.qmin, dtype.qmax
    scale = (hi - lo) / (qmax - qmin)
    zp = int(np.clip(round_half_away(qmin - lo / scale), qmin, qmax))
    return QuantParams(np.float32(scale), zp, dtype)


def fixed_params(scale: float, zero_point: int, dtype: QDType) -> QuantParams:
    return QuantParams(np.float32(scale), int(zero_point), QDType(dtype))


def params_range(p: QuantParams) -> tuple[float, float]:
    """The real range ``[lo, hi]`` a per-tensor QuantParams can represent."""
    s, z = float(p.scale[0]), int(p.zero_point[0])
    return s * (p.dtype.qmin - z), s * (p.dtype.qmax - z)


# -- weights ----------------------------------------------------------------------
def _channel_view(w: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(w, np.float64), axis, 0).reshape(w.shape[axis], -1)


def _channel_errors(wc: np.ndarray, t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Squared error per channel of symmetric quantization with thresholds ``t`` [C]
    (``out``: scratch of ``wc``'s shape and dtype, overwritten)."""
    s = np.where(t > 0, t / WEIGHT_QMAX, 1.0)[:, None]
    v = np.divide(wc, s, out=out)
    # round half away from zero in place: trunc(v ± 0.5) == sign(v) * floor(|v| + 0.5)
    # (round_half_away) for every float, up to the sign of a zero, which the squared
    # error below does not see
    q = np.copysign(0.5, v)
    q += v
    np.trunc(q, out=q)
    np.clip(q, -WEIGHT_QMAX, WEIGHT_QMAX, out=q)
    q *= s
    np.subtract(wc, q, out=q)
    q *= q
    return q.sum(axis=1)


def weight_thresholds(w: np.ndarray, axis: int | None, clip: str = "mse") -> np.ndarray:
    """Per-channel (or per-tensor if ``axis`` is None) clipping thresholds ``t >= 0``.

    ``clip="max"`` uses ``max|w|``; ``clip="mse"`` searches ``t = f * max|w|`` for the
    ``f`` minimising the squared weight error of each channel (a 0.1 grid over
    ``[0.5, 1]`` refined in 0.02 steps around the best point; ``f = 1`` is always a candidate, so the
    result is never worse than max).
    """
    wc = _channel_view(w, axis) if axis is not None else np.asarray(w, np.float64).reshape(1, -1)
    amax = np.abs(wc).max(axis=1)
    if clip == "max":
        return amax
    if clip != "mse":
        raise QuantizationError(f"unknown weight clipping '{clip}'; use 'mse' or 'max'")
    best_f = np.ones_like(amax)
    scratch = np.empty_like(wc)
    best_err = _channel_errors(wc, amax, scratch)
    for grid in (np.linspace(0.5, 1.0, 6), None):
        if grid is None:  # refine around each channel's best coarse factor
            grid = np.linspace(-0.08, 0.08, 9)
            cands = [np.clip(best_f + g, 0.3, 1.0) for g in grid]
        else:
            cands = [np.full_like(amax, g) for g in grid]
        for f in cands:
            err = _channel_errors(wc, amax * f, scratch)
            better = err < best_err
            best_err = np.where(better, err, best_err)
            best_f = np.where(better, f, best_f)
    return amax * best_f


def weight_params(w: np.ndarray, axis: int | None, clip: str = "mse") -> QuantParams:
    """Symmetric int8 params (zero point 0, range [-127, 127]) for a weight tensor."""
    t = weight_thresholds(w, axis, clip)
    scale = np.where(t > 0, t / WEIGHT_QMAX, 1.0).astype(np.float32)
    # a float32 scale must still be > 0 and finite after the cast
    scale = np.maximum(scale, np.finfo(np.float32).tiny)
    return QuantParams(scale, np.zeros(scale.size, np.int64), QDType.INT8, axis)


def quantize_weight(w: np.ndarray, params: QuantParams) -> np.ndarray:
    q = params.quantize(w)
    # weights are restricted to [-127, 127] (symmetric, TFLite spec)
    return np.clip(q, -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)


def quantize_bias(b: np.ndarray, input_scale: float, weight: QuantParams, int64: bool,
                  name: str = "bias") -> tuple[np.ndarray, np.ndarray]:
    """Quantize a bias to int32 (or int64); returns ``(q, scale)``.

    The scale is ``s_in * s_w[c]`` computed in double precision as TFLite does; a value
    that would overflow int32 is an error naming the tensor (it means the input scale or
    the weight scale is degenerate).
    """
    scale = np.float64(input_scale) * weight.scale.astype(np.float64)
    q = round_half_away(np.asarray(b, np.float64) / scale)
    info = np.iinfo(np.int64 if int64 else np.int32)
    if np.any(q > info.max) or np.any(q < info.min):
        worst = int(np.argmax(np.abs(q)))
        raise QuantizationError(f"bias '{name}': channel {worst} value {float(np.ravel(b)[worst]):.4g} "
                                f"overflows {info.dtype} at scale {scale.ravel()[worst]:.3g}; the input "
                                f"or weight range is degenerate (check the calibration data)")
    return q.astype(info.dtype), scale.astype(np.float32)


#: a bias may fill at most this fraction of its integer range, leaving the accumulator
#: room for ``Σ w·(x - zp)`` on top of it
BIAS_HEADROOM = 0.5


def widen_for_bias(weight: QuantParams, b: np.ndarray, input_scale: float,
                   int64: bool) -> QuantParams | None:
    """Weight params whose scales are raised where the bias would not fit, or None.

    Channel ``c``'s bias quantizes to ``b[c] / (s_in · s_w[c])``; when that exceeds
    ``BIAS_HEADROOM`` of the int32 (int64) range, ``s_w[c]`` becomes
    ``|b[c]| / (s_in · BIAS_HEADROOM · max)``. Only channels whose weights are tiny
    next to their bias get there, and their weights then quantize to (near) zero, which
    is what they were: the channel's output is its bias. A per-tensor scale is raised
    for the worst channel.
    """
    info = np.iinfo(np.int64 if int64 else np.int32)
    limit = BIAS_HEADROOM * float(info.max)
    need = np.abs(np.asarray(b, np.float64).ravel()) / (np.float64(input_scale) * limit)
    scale = weight.scale.astype(np.float64)
    if scale.size == 1:
        need = np.array([need.max(initial=0.0)])
    if need.size != scale.size or np.all(need <= scale):
        return None
    # float32 rounding must not bring a widened scale back below what the bias needs
    widened = np.where(need > scale, need * (1.0 + 1e-6), scale).astype(np.float32)
    log.info("%d weight channel(s) too small for their bias: scales widened so the bias fits %s",
             int(np.sum(need > scale)), info.dtype)
    return QuantParams(widened, np.zeros(widened.size, np.int64), weight.dtype, weight.axis)
