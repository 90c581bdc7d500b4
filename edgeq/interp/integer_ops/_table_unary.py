"""int8 elementwise functions with no TFLite builtin, as a 256-entry lookup table.

For an int8 input ``q`` with ``(s_in, zp_in)`` and an int8 output with ``(s_out,
zp_out)``, entry ``q − (−128)`` is ``LUTPopulateInt8`` of the function (the table
LOGISTIC/TANH/GELU build, _lut.py): evaluated in float32 at ``s_in · (q − zp_in)``,
rounded half away from zero, clamped. Any elementwise function of one int8 tensor is
exactly such a table; the TFLite target emits it as ``QUANTIZE`` (int8 → uint8, same
scale, zero point + 128: the raw value + 128), ``CAST`` (uint8 → int32) and ``GATHER``
from the constant table, so the artifact and this kernel index the same bytes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from edgeq.interp.integer_ops._common import in_quant, out_quant, per_tensor, prepared, require_int
from edgeq.interp.integer_ops._lut import lookup_int8, lut_int8


def table_unary(node, inputs, ctx) -> list[np.ndarray]:
    """The kernel of a ``TABLE_OPS`` node: look its int8 input up in its table."""
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8),))

    def table():
        s_in, zp_in = per_tensor(node, in_quant(ctx, node), "the input")
        s_out, zp_out = per_tensor(node, out_quant(ctx, node), "the output")
        return int8_table(node.op_type, s_in, zp_in, s_out, zp_out)

    return [lookup_int8(x, prepared(ctx, node, table))]


def int8_table(op_type: str, s_in: float, zp_in: int, s_out: float, zp_out: int) -> np.ndarray:
    """The int8 table (indexed by ``q + 128``) of the table op ``op_type`` (a key of
    ``TABLE_OPS``) for these input and output parameters: what the simulator looks up,
    for a target to store."""
    return lut_int8(np.float32(s_in), int(zp_in), np.float32(s_out), int(zp_out), TABLE_OPS[op_type])


def softplus_f32(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)`` (ONNX Softplus), stable for large |x|, in float32."""
    x64 = np.asarray(x, np.float64)
    return (np.maximum(x64, 0) + np.log1p(np.exp(-np.abs(x64)))).astype(np.float32)


def mish_f32(x: np.ndarray) -> np.ndarray:
    """``x · tanh(softplus(x))`` (ONNX Mish-18), in float32."""
    x64 = np.asarray(x, np.float64)
    return (x64 * np.tanh(softplus_f32(x).astype(np.float64))).astype(np.float32)


#: the int8 ops computed as a lookup table, and their float32 functions
TABLE_OPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"Mish": mish_f32, "Softplus": softplus_f32}
