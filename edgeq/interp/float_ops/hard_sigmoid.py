"""HardSigmoid (ONNX HardSigmoid-6): ``max(0, min(1, alpha * X + beta))``, alpha 0.2 and
beta 0.5 by default. Computed in the input dtype as onnxruntime does."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


@FLOAT_OPS.register("HardSigmoid")
def hard_sigmoid(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    alpha = np.asarray(node.attrs.get("alpha", 0.2), dtype=x.dtype)
    beta = np.asarray(node.attrs.get("beta", 0.5), dtype=x.dtype)
    y = x * alpha
    y += beta
    return [np.clip(y, 0, 1, out=y)]
