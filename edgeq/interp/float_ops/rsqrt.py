"""Rsqrt (edgeq IR op, TFLite RSQRT): ``1 / sqrt(max(X, RSQRT_FLOOR))``, written by the
LayerNorm and Sqrt lowerings (docs/quantization.md); this kernel runs a lowered graph's
Rsqrt left in float.

The floor is part of the op's meaning: ``sqrt(x)`` is lowered to ``x · rsqrt(x)``, which
must be 0 at ``x = 0`` (a silent frame's power spectrum) rather than ``0 · inf = NaN``.
The float forms of the op apply it: this kernel, the onnxruntime graph of
``prepare.executable`` (Max, Sqrt, Reciprocal) and TFLite's float islands (MAXIMUM before
RSQRT); Core ML's fp16 ``rsqrt`` adds its own epsilon, 2^-24, the fp16 counterpart. 1e-30 is above float32's smallest normal (1.2e-38), so its
reciprocal square root (1e15) is finite, and below any variance + epsilon a LayerNorm
feeds it."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float

#: smallest argument of the float Rsqrt
RSQRT_FLOOR = 1e-30


@FLOAT_OPS.register("Rsqrt")
def rsqrt(node, inputs, ctx):
    with np.errstate(invalid="ignore"):  # NaN input stays NaN
        return unary_float(node, inputs,
                           lambda x: np.reciprocal(np.sqrt(np.maximum(x, np.float32(RSQRT_FLOOR)))))
