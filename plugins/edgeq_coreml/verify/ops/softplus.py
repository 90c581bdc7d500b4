"""softplus(x): ``log(1 + exp(x))`` (MIL iOS15 activation), evaluated stably as
``max(x, 0) + log1p(exp(-|x|))`` in float32."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("softplus")
def softplus(op, inputs, ctx):
    x = f32(inputs["x"])
    return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(np.float32)
