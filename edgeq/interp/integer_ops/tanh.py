"""Tanh (TFLite TANH).

* int8 — ``LUTPopulate<int8_t>`` of ``std::tanh`` in float32 (kernels/activations.cc
  ``TanhPrepare``), looked up per value; the usual output is (1/128, 0).
* int16 — ``reference_integer_ops::Tanh`` (reference/integer_ops/tanh.h): the rescale of
  sigmoid.py (power-of-two input scales with a left shift of 0 or 1 take the ``3 << shift``
  multiplier), then ``tanh(x) = 2·sigmoid(2x) − 1`` interpolated in
  ``sigmoid_table_uint16`` with 8 fractional bits. Output (1/32768, 0).
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.interp.integer_ops._lut import lookup_int8, lut_int8, tanhf
from edgeq.interp.integer_ops._sigmoid_table import SIGMOID_TABLE_UINT16
from edgeq.interp.integer_ops.sigmoid import int16_input_rescale


def tanh_int16(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    if multiplier == 0:  # power-of-two scale
        multiplier, left_shift = 3 << left_shift, 0
    rnd = (1 << (left_shift - 1)) if left_shift > 0 else 0
    v = (x.astype(np.int64) * multiplier + rnd) >> left_shift
    a = np.abs(v)
    uh = a >> 8
    table = SIGMOID_TABLE_UINT16
    idx = np.minimum(uh, 254)
    ua, ub = table[idx], table[idx + 1]
    result = np.where(uh >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    result = np.where(v >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
    return (result >> 8).astype(np.int16)


@INTEGER_OPS.register("Tanh")
def tanh(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input's", [x])
    if x.dtype == np.int8:
        table = prepared(ctx, node, lambda: lut_int8(s_in, zp_in, s_out, zp_out, tanhf))
        return [lookup_int8(x, table)]
    if zp_in != 0 or zp_out != 0 or s_out != np.float32(1 / 32768):
        raise unsupported(node, "int16 Tanh needs a symmetric input and a (1/32768, 0) "
                                "output, as TFLite requires", [x])
    m, shift = prepared(ctx, node, lambda: int16_input_rescale(float(s_in), (0, 1)))
    return [tanh_int16(x, m, shift)]
