"""concat(values, axis): join along ``axis``."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("concat")
def concat(op, inputs, ctx):
    values = [np.asarray(v) for v in inputs["values"]]
    if bool(inputs.get("interleave", False)):
        raise NotImplementedError("interleaved concat")
    return np.concatenate([v.astype(np.result_type(*values)) for v in values], axis=int(inputs["axis"]))
