"""Rsqrt (edgeq IR op, TFLite RSQRT): ``1 / sqrt(X)``, written by the LayerNorm lowering
(docs/quantization.md). Zero gives +inf and negative inputs NaN, as IEEE 754 division
and square root do; this kernel runs a lowered graph's Rsqrt left in float."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float


@FLOAT_OPS.register("Rsqrt")
def rsqrt(node, inputs, ctx):
    with np.errstate(divide="ignore", invalid="ignore"):
        return unary_float(node, inputs, lambda x: np.reciprocal(np.sqrt(x)))
