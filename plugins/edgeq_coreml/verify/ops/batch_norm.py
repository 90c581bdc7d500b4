"""batch_norm(x, mean, variance, gamma, beta, epsilon) over axis 1."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("batch_norm")
def batch_norm(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)

    def p(k, d):
        v = inputs.get(k)
        return d if v is None else np.asarray(v, np.float64).reshape(shape)

    y = (x - p("mean", 0.0)) / np.sqrt(p("variance", 1.0) + float(inputs.get("epsilon", 1e-5)))
    return (y * p("gamma", 1.0) + p("beta", 0.0)).astype(np.float32)
