"""Sigmoid (TFLite LOGISTIC).

* int8 — LiteRT's reference (and generic) kernel looks up a 256-entry table
  (kernels/activations.cc ``SigmoidPrepare``: ``LUTPopulate<int8_t>`` of
  ``1.0f / (1.0f + std::exp(-x))`` in float32, see _lut.py). The output must be
  (1/256, −128), as TFLite checks.
* int16 — ``reference_integer_ops::Logistic`` (reference/integer_ops/logistic.h): the input
  is rescaled to the table's 1/(3·4096) scale — by ``3 << shift`` when
  ``log2(s_in) = −12`` exactly, otherwise by ``int(s_in · 4096 · 3 · 2^k)`` with a rounding
  right shift by ``k`` (k doublings until the multiplier exceeds 32767/2) — and the
  fixed 256-entry ``sigmoid_table_uint16`` is linearly interpolated. Output (1/32768, 0).
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.interp.integer_ops._lut import expf, lookup_int8, lut_int8
from edgeq.interp.integer_ops._sigmoid_table import SIGMOID_TABLE_UINT16, checked_log2


def _logistic_f32(x):
    return np.float32(1.0) / (np.float32(1.0) + expf(-x))


def int16_input_rescale(s_in: float, pot_shifts: tuple[int, ...]) -> tuple[int, int]:
    """``(input_multiplier, input_left_shift)`` of the int16 LOGISTIC/TANH Prepare.

    ``input_multiplier == 0`` marks the power-of-two case (left shift in ``pot_shifts``).
    """
    exact, log2 = checked_log2(s_in)
    left_shift = (15 - 3) + log2
    if exact and left_shift in pot_shifts:
        return 0, left_shift
    multiplier = s_in * 4096.0 * 3.0
    left_shift = 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


def logistic_int16(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    if multiplier == 0:  # power-of-two scale
        multiplier, left_shift = 3 << left_shift, 0
    rnd = (1 << (left_shift - 1)) if left_shift > 0 else 0
    v = (x.astype(np.int64) * multiplier + rnd) >> left_shift
    a = np.abs(v)
    uh = a >> 9
    table = SIGMOID_TABLE_UINT16
    idx = np.minimum(uh, 254)
    ua, ub = table[idx], table[idx + 1]
    result = np.where(uh >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    result = np.where(v >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
    return (result >> 10).astype(np.int16)


@INTEGER_OPS.register("Sigmoid")
def sigmoid(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    if x.dtype == np.int8:
        if qo.dtype.numpy != np.int8 or s_out != np.float32(1 / 256) or zp_out != -128:
            raise unsupported(node, f"int8 Sigmoid output must be (1/256, -128) as TFLite "
                                    f"requires; found ({s_out:.6g}, {zp_out})", [x])
        table = prepared(ctx, node, lambda: lut_int8(s_in, zp_in, s_out, zp_out, _logistic_f32))
        return [lookup_int8(x, table)]
    if zp_in != 0 or zp_out != 0 or s_out != np.float32(1 / 32768) or qo.dtype.numpy != np.int16:
        raise unsupported(node, "int16 Sigmoid needs a symmetric input and a (1/32768, 0) "
                                "output, as TFLite requires", [x])
    m, shift = prepared(ctx, node, lambda: int16_input_rescale(float(s_in), (0,)))
    return [logistic_int16(x, m, shift)]
