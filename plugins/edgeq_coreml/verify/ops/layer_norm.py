"""layer_norm(x, axes, gamma, beta, epsilon): ``(x − mean)/sqrt(var + eps)·γ + β``
over ``axes`` (biased variance)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("layer_norm")
def layer_norm(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    axes = tuple(int(a) % x.ndim for a in np.asarray(inputs["axes"]).reshape(-1))
    eps = float(inputs.get("epsilon", 1e-5))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if inputs.get("gamma") is not None:
        y = y * np.asarray(inputs["gamma"], np.float64)
    if inputs.get("beta") is not None:
        y = y + np.asarray(inputs["beta"], np.float64)
    return y.astype(np.float32)
