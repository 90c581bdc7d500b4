"""Softmax -> SOFTMAX over the last axis, beta 1 (tensorflow/lite/kernels/activations.cc).

SOFTMAX works on the innermost axis; any other axis is moved last and back with a
pair of TRANSPOSEs (same quantization, exact). The int8 output must be (1/256, -128)
and the int16 one (1/32768, 0), as ``SoftmaxPrepare`` checks. ``beta`` must be
written: the schema default is 0, which the kernels turn into a zero multiplier.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import INT_ACTIVATIONS, opts, require_dtypes, unfused
from edgeq_tflite.emit.schema import BuiltinOperator as B

_FIXED = {np.dtype(np.int8): (1 / 256, -128), np.dtype(np.int16): (1 / 32768, 0)}


def _transpose(ctx, x, perm, base):
    out = ctx.new(base, x.dtype, tuple(x.shape[p] for p in perm), x.quant)
    ctx.op(B.TRANSPOSE, [x, ctx.int32_vector(f"{base}_perm", perm)], [out], opts("TransposeOptions"))
    return out


@register("Softmax", "LogSoftmax")
def lower_softmax(ctx, node) -> None:
    log = node.op_type == "LogSoftmax"
    x = ctx.tensor(node.inputs[0])
    y, finish = unfused(ctx, node, node.outputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, (np.int8,) if log else INT_ACTIVATIONS,
                       "LOG_SOFTMAX" if log else "SOFTMAX")
        if not log:
            want = _FIXED[np.dtype(y.dtype)]
            got = (float(y.quant.scale[0]), int(y.quant.zero_point[0]))
            if not (math.isclose(got[0], want[0], rel_tol=1e-6) and got[1] == want[1]):
                raise ctx.unsupported(node, f"TFLite SOFTMAX needs output quantization {want} for "
                                            f"{np.dtype(y.dtype).name}; got {got}")
    rank = len(x.shape)
    axis = int(node.attrs.get("axis", -1)) % rank
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    src, dst = x, y
    if axis != rank - 1:
        src = _transpose(ctx, x, perm, f"{x.name}_axis_last")
        dst = ctx.new(f"{y.name}_axis_last", y.dtype, tuple(y.shape[p] for p in perm), y.quant)
    if log:
        ctx.op(B.LOG_SOFTMAX, [src], [dst], opts("LogSoftmaxOptions"))
    else:
        ctx.op(B.SOFTMAX, [src], [dst], opts("SoftmaxOptions", beta=1.0))
    if axis != rank - 1:
        ctx.op(B.TRANSPOSE, [dst, ctx.int32_vector(f"{y.name}_perm", perm)], [y], opts("TransposeOptions"))
    finish()
