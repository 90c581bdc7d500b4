"""Shared checks of the same-scale ops (docs/quantization.md): data movement kernels copy
raw integers, which is only meaningful when the output shares the input's
quantization, as TFLite's kernels assume (they copy without rescaling)."""

import numpy as np

from edgeq.interp.integer_ops._common import quant, unsupported

MOVABLE = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32),
           np.dtype(np.int64), np.dtype(np.float32))


def same_params(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (a.dtype == b.dtype and a.axis == b.axis and np.array_equal(a.scale, b.scale)
            and np.array_equal(a.zero_point, b.zero_point))


def check_same_scale(ctx, node, x: np.ndarray, in_names, out_names) -> None:
    """Every named input/output tensor must carry the first input's QuantParams."""
    if x.dtype not in MOVABLE:
        raise unsupported(node, "unsupported data type", [x])
    names = [n for n in list(in_names) + list(out_names) if n]
    ref = ctx.graph.tensors[names[0]].quant
    for name in names[1:]:
        q = ctx.graph.tensors[name].quant
        if not same_params(ref, q):
            raise unsupported(node, f"tensor '{name}' is quantized differently from "
                                    f"'{names[0]}' ({_fmt(q)} vs {_fmt(ref)}); this op moves "
                                    "integers without rescaling, so requantize with a Quantize "
                                    "node first")
    if ref is None and x.dtype.kind in "iu" and x.dtype != np.int64 and x.dtype != np.int32:
        quant(ctx, node, names[0])  # raises: integer activations need QuantParams


def _fmt(q) -> str:
    if q is None:
        return "float"
    return f"{q.dtype.value} scale={q.scale.tolist()} zp={q.zero_point.tolist()}"
