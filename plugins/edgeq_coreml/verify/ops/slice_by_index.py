"""slice_by_index(x, begin, end, stride, begin_mask, end_mask, squeeze_mask):
Python slicing per axis; a set mask bit ignores that bound."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS


@OPS.register("slice_by_index")
def slice_by_index(op, inputs, ctx):
    x = np.asarray(inputs["x"])
    n = x.ndim

    def vec(key, default):
        v = inputs.get(key)
        return [default] * n if v is None else [x_ for x_ in np.asarray(v).reshape(-1).tolist()]

    begin, end, stride = vec("begin", 0), vec("end", 0), vec("stride", 1)
    bm, em, sm = vec("begin_mask", False), vec("end_mask", False), vec("squeeze_mask", False)
    idx = []
    for i in range(n):
        idx.append(slice(None if bm[i] else int(begin[i]), None if em[i] else int(end[i]), int(stride[i])))
    y = x[tuple(idx)]
    squeeze = tuple(i for i in range(n) if sm[i])
    return np.squeeze(y, axis=squeeze) if squeeze else y
