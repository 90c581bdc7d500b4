"""gelu(x, mode): EXACT ``0.5·x·(1 + erf(x/√2))``, TANH_APPROXIMATION
``0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))``, SIGMOID_APPROXIMATION ``x·σ(1.702x)``
(activation.gelu's documented formulas)."""

from __future__ import annotations

import math

import numpy as np

from edgeq_coreml.verify.ops import OPS

_ERF = np.vectorize(math.erf, otypes=[np.float64])


@OPS.register("gelu")
def gelu(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    mode = str(inputs.get("mode", "EXACT"))
    if mode == "TANH_APPROXIMATION":
        y = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    elif mode == "SIGMOID_APPROXIMATION":
        y = x / (1 + np.exp(-1.702 * x))
    else:
        y = 0.5 * x * (1 + _ERF(x / math.sqrt(2)))
    return y.astype(np.float32)
