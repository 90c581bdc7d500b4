"""cast(x, dtype): conversion to the named dtype; float -> int truncates toward zero
(MIL elementwise_unary.cast, like C)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("cast")
def cast(op, inputs, ctx):
    dtype = {"fp16": np.float16, "fp32": np.float32, "int32": np.int32, "int16": np.int16,
             "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}[str(inputs["dtype"])]
    x = np.asarray(inputs["x"])
    if np.dtype(dtype).kind in "iu" and x.dtype.kind == "f":
        x = np.trunc(x)
    return x.astype(dtype)
