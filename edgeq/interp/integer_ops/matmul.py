"""MatMul of two activations (TFLite BATCH_MATMUL), numpy/ONNX broadcasting of the batch
dimensions.

kernels/batch_matmul.cc: Prepare takes ``GetQuantizedConvolutionMultipler`` —
``double(float32(s_a · s_b)) / double(s_out)`` — through ``QuantizeMultiplier``; the
reference ``BatchMatMul<int8, int32>`` / ``<int16, int64>`` (reference/batch_matmul.h)
accumulates ``Σ (a − zp_a)(b − zp_b)`` in int32 (int8) or int64 (int16) and requantizes
with the matching ``MultiplyByQuantizedMultiplier`` overload, ``+ zp_out``, clamped to the
storage range (BATCH_MATMUL has no fused activation). int16 requires zero points of 0.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops.conv import exact_float_type
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, prepared, require_int,
    require_symmetric_int16, unsupported)
from edgeq.quantize.arith.fixed_point import (
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_int64,
    quantize_multiplier_scalar, wrap_int32)


@INTEGER_OPS.register("MatMul")
def matmul(node, inputs, ctx):
    a, b = inputs
    require_int(node, [a, b], (np.dtype(np.int8), np.dtype(np.int16)))
    qa, qb, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    if not (a.dtype == b.dtype == qo.dtype.numpy):
        raise unsupported(node, "both operands and the output must share one integer type "
                                "(a constant right-hand side is a FullyConnected)", [a, b])
    require_symmetric_int16(node, a, qa, qb, qo)
    s_a, zp_a = per_tensor(node, qa, "input A")
    s_b, zp_b = per_tensor(node, qb, "input B")
    s_o, zp_o = per_tensor(node, qo, "the output")

    def prepare():
        real = float(np.float64(np.float32(s_a * s_b)) / np.float64(s_o))
        return quantize_multiplier_scalar(real), fused_range(node, qo)

    (m, shift), (lo, hi) = prepared(ctx, node, prepare)
    ai = a.astype(np.int32) - zp_a
    bi = b.astype(np.int32) - zp_b
    # exact BLAS: float32 while |partial sums| <= max|a|·max|b|·K < 2^24, else float64
    bound = int(np.abs(ai).max(initial=0)) * int(np.abs(bi).max(initial=0)) * a.shape[-1]
    ftype = exact_float_type(bound, 1)
    acc = np.rint(np.matmul(ai.astype(ftype), bi.astype(ftype))).astype(np.int64)
    if a.dtype == np.int8:
        y = multiply_by_quantized_multiplier(wrap_int32(acc), m, shift)
    else:
        y = multiply_by_quantized_multiplier_int64(acc, m, shift)
    return [clamp_cast(y + zp_o, lo, hi, a.dtype)]
