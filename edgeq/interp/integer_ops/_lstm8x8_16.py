"""The arithmetic of TFLite's integer ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (8x8_16: int8
input, output and weights, int16 cell state), without peepholes, projection, layer norm
or CIFG.

Prepare (kernels/unidirectional_sequence_lstm.cc ``PopulateQuantizedLstmParams8x8_16``
and ``PopulatePrecomputedZPTimesWeightsWithBias``):

* without layer norm every gate pre-activation is int16 at the fixed scale ``2^-12``
  (Q3.12, the input format of the int16 sigmoid/tanh); the effective scale of each
  matrix product is ``s_w · s_in / 2^-12`` computed in **float32** (``s_w`` the weight
  tensor's single scale: the kernel reads ``params.scale``, so weights are per tensor
  and symmetric), then ``QuantizeMultiplier``;
* the cell state scale must be a power of two ``2^cell_scale`` (``CheckedLog2``);
* the hidden value ``o · tanh(c)`` (Q0.15 · Q0.15 = ``2^-30``) is requantized with
  ``2^-15 / s_hidden · 2^-15`` (double, stored as float32) to int8 at the scale and
  zero point of intermediate 4; without projection that value *is* the output state, so
  the output state, the output and intermediate 4 share one scale and zero point;
* the zero points are folded into per-row biases: ``bias + (−zp_in) · Σ_row W`` for the
  input products, ``(−zp_h) · Σ_row R`` for the recurrent ones (int32).

Step (kernels/lstm_eval.cc ``LstmStepInteger8x8_16``; the element functions are
``Portable*`` in kernels/internal/reference/portable_tensor_utils.cc):

* gate = clamp16(MBQM(x·W + b_in) ) then gate = clamp16(MBQM(h·R + b_rec) + gate) — two
  separately requantized and saturated accumulations;
* i, f, o = int16 ``gemmlowp::logistic`` of Q3.12; g = ``gemmlowp::tanh`` of Q3.12;
* c = RDBPOT(f·c, 15); c = clamp16(c + int16(RDBPOT(i·g, 30 + cell_scale)));
* h = clamp8(MBQM(o · tanh_{15 + cell_scale}(c), hidden multiplier) + zp_hidden).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.interp.integer_ops import _gemmlowp16 as fx16
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, quantize_multiplier_scalar, rounding_divide_by_pot,
    wrap_int32)

#: TFLite's gate order in the fused op's inputs (input, forget, cell, output)
GATES = ("i", "f", "c", "o")
#: Q3.12: the gate pre-activation scale without layer norm
GATE_SCALE = np.float32(2.0 ** -12)


@dataclass(frozen=True)
class LstmQuant:
    """The scales and zero points the fused kernel reads."""

    input_scale: float
    input_zero_point: int
    #: per gate (i, f, c, o): the input-to-gate and recurrent-to-gate weight scales
    input_weight_scales: tuple[float, float, float, float]
    recurrent_weight_scales: tuple[float, float, float, float]
    #: output state = output = intermediate 4 (no projection)
    output_scale: float
    output_zero_point: int
    #: log2 of the cell state scale
    cell_scale_log2: int


def effective_multipliers(q: LstmQuant) -> dict:
    """``(M0, shift)`` of every product, as ``PopulateQuantizedLstmParams8x8_16``."""
    s_in, s_h = np.float32(q.input_scale), np.float32(q.output_scale)
    out = {}
    for k, sw, sr in zip(GATES, q.input_weight_scales, q.recurrent_weight_scales):
        # float * float / float in float32, as the C++ expression is typed
        out[f"input_{k}"] = quantize_multiplier_scalar(float(np.float32(np.float32(sw) * s_in) / GATE_SCALE))
        out[f"recurrent_{k}"] = quantize_multiplier_scalar(float(np.float32(np.float32(sr) * s_h) / GATE_SCALE))
    hidden = np.float32(2.0 ** -15 / np.float64(s_h) * 2.0 ** -15)
    out["hidden"] = quantize_multiplier_scalar(float(hidden))
    return out


def effective_biases(q: LstmQuant, w: dict, r: dict, b: dict) -> dict:
    """The zero-point-folded int32 row biases (``PrecomputeZeroPointTimesWeightWithBias``)."""
    out = {}
    for k in GATES:
        out[f"input_{k}"] = wrap_int32(b[k].astype(np.int64)
                                       + (-q.input_zero_point) * w[k].astype(np.int64).sum(axis=1))
        out[f"recurrent_{k}"] = wrap_int32((-q.output_zero_point) * r[k].astype(np.int64).sum(axis=1))
    return out


def _matmul_accumulate(x, weights, bias, multiplier, gate=None):
    """``PortableMatrixBatchVectorMultiplyAccumulate`` to int16 with output_zp 0."""
    acc = wrap_int32(x.astype(np.int64) @ weights.astype(np.int64).T + bias)
    acc = multiply_by_quantized_multiplier(acc, *multiplier)
    if gate is not None:
        acc = acc + gate
    return np.clip(acc, -32768, 32767)


def run_lstm(x, h0, c0, w: dict, r: dict, b: dict, q: LstmQuant):
    """Run the fused integer LSTM over ``x[T, B, I]`` (int8, time major) from the states
    ``h0[B, H]`` (int8) and ``c0[B, H]`` (int16).

    ``w[k][H, I]``, ``r[k][H, H]`` are the int8 weights and ``b[k][H]`` the int32 biases
    of gate ``k`` in :data:`GATES`. Returns ``(y[T, B, H] int8, h_T int8, c_T int16)``.
    """
    mults = effective_multipliers(q)
    biases = effective_biases(q, w, r, b)
    cs = int(q.cell_scale_log2)
    h = np.asarray(h0, np.int64)
    c = np.asarray(c0, np.int64)
    ys = []
    for t in range(x.shape[0]):
        xt = np.asarray(x[t], np.int64)
        gates = {}
        for k in GATES:
            pre = _matmul_accumulate(xt, w[k], biases[f"input_{k}"], mults[f"input_{k}"])
            pre = _matmul_accumulate(h, r[k], biases[f"recurrent_{k}"], mults[f"recurrent_{k}"], pre)
            gates[k] = fx16.tanh(pre, 3) if k == "c" else fx16.logistic(pre, 3)
        # UpdateLstmCellInteger: CwiseMul with shifts, then a saturating CwiseAdd
        fc = rounding_divide_by_pot(gates["f"] * c, 15)
        ig = fx16.wrap16(rounding_divide_by_pot(gates["i"] * gates["c"], 30 + cs))
        c = np.clip(fx16.wrap16(fc) + ig, -32768, 32767)
        # CalculateLstmOutputInteger8x8_16 without projection
        tc = fx16.tanh(c, 15 + cs)
        hv = multiply_by_quantized_multiplier(gates["o"] * tc, *mults["hidden"]) + q.output_zero_point
        h = np.clip(hv, -128, 127)
        ys.append(h)
    y = np.stack(ys).astype(np.int8)
    return y, h.astype(np.int8), c.astype(np.int16)
