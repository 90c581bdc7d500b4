"""pad(x, pad, mode, constant_val): ``pad`` lists (begin, end) for the last
``len(pad)/2`` axes; modes constant, reflect, replicate."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("pad")
def pad(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    p = [int(v) for v in np.asarray(inputs["pad"]).reshape(-1)]
    k = len(p) // 2
    width = [(0, 0)] * (x.ndim - k) + [(p[2 * i], p[2 * i + 1]) for i in range(k)]
    mode = str(inputs.get("mode", "constant"))
    if mode == "constant":
        val = inputs.get("constant_val")
        return np.pad(x, width, constant_values=np.asarray(0 if val is None else val).astype(x.dtype))
    return np.pad(x, width, mode={"reflect": "reflect", "replicate": "edge"}[mode])
