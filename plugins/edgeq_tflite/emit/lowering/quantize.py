"""Quantize -> QUANTIZE, Dequantize -> DEQUANTIZE (tensorflow/lite/kernels/quantize.cc,
dequantize.cc).

QUANTIZE covers float -> int and int -> int requantization (int8 <-> int16, uint8 <->
int8 for uint8 I/O); DEQUANTIZE covers int8/int16/uint8 -> float32.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import require_dtypes
from edgeq_tflite.emit.schema import BuiltinOperator as B

_STORAGE = (np.int8, np.uint8, np.int16)


@register("Quantize")
def lower_quantize(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if y.quant is None:
        raise ctx.unsupported(node, f"output '{y.name}' has no quantization parameters")
    require_dtypes(ctx, node, y, _STORAGE, "QUANTIZE")
    if x.quant is not None:
        require_dtypes(ctx, node, x, _STORAGE, "QUANTIZE")
    elif x.dtype != np.float32:
        raise ctx.unsupported(node, f"QUANTIZE reads float32 or an integer type, not {x.dtype}")
    ctx.op(B.QUANTIZE, [x], [y])


@register("Dequantize")
def lower_dequantize(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is None:
        raise ctx.unsupported(node, f"input '{x.name}' has no quantization parameters")
    require_dtypes(ctx, node, x, _STORAGE, "DEQUANTIZE")
    if y.dtype != np.float32:
        raise ctx.unsupported(node, f"DEQUANTIZE writes float32, not {y.dtype}")
    ctx.op(B.DEQUANTIZE, [x], [y])
