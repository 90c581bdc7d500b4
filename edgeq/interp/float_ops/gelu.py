"""Gelu (ONNX Gelu-20, also the edgeq canonical op): ``approximate="none"`` computes
``0.5 * X * (1 + erf(X / sqrt(2)))``; ``approximate="tanh"`` computes
``0.5 * X * (1 + tanh(sqrt(2 / pi) * (X + 0.044715 * X^3)))`` (Hendrycks & Gimpel 2016)."""

import math

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import attr_str, require_float, unsupported
from edgeq.interp.float_ops._erf import erf


@FLOAT_OPS.register("Gelu")
def gelu(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    mode = attr_str(node, "approximate", "none")
    dt = x.dtype
    if mode == "none":
        inner = erf(x * np.asarray(1 / math.sqrt(2), dtype=dt))
    elif mode == "tanh":
        inner = np.tanh(np.asarray(math.sqrt(2 / math.pi), dtype=dt)
                        * (x + np.asarray(0.044715, dtype=dt) * x * x * x))
    else:
        raise unsupported(node, f"approximate={mode!r} (expected 'none' or 'tanh')")
    inner += np.asarray(1, dtype=dt)
    inner *= x
    inner *= np.asarray(0.5, dtype=dt)
    return [inner]
