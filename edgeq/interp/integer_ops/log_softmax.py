"""LogSoftmax (TFLite LOG_SOFTMAX), int8, over ``axis`` (TFLite: the last axis).

kernels/activations.cc ``LogSoftmaxPrepare<kReference>`` and
reference/integer_ops/log_softmax.h: the output must be (16/256, 127);
``PreprocessLogSoftmaxScalingExp(1, s_in, 5)`` gives the Q5.26 input multiplier (as for
SOFTMAX), the reverse-scaling multiplier ``QuantizeMultiplierSmallerThanOneExp(2^(31 −
shift) / M)`` and ``diff_min``. Per row: the sum of ``exp_on_negative_values`` over the
differences ``≥ diff_min`` (Q12.19), its log by ``log_x_for_x_greater_than_or_equal_to_1``
(Q5.26), an adjusted ``diff_min`` from the reverse multiplier, and for each entry above
it ``RoundingDivideByPOT(d_q5 − log_sum, 22) + 127``, clamped; the others are −128.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops import _gemmlowp as gl
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.interp.integer_ops.softmax import _prepare_int8
from edgeq.quantize.arith.fixed_point import (
    INT32_MIN, multiply_by_quantized_multiplier, quantize_multiplier_scalar, rounding_divide_by_pot)


def _prepare(node, s_in: float):
    m, shift, diff_min = _prepare_int8(node, s_in, 1.0)
    reverse = float(1 << (31 - shift)) / float(m)
    if not 0.0 <= reverse < 1.0:
        raise unsupported(node, f"input scale {s_in:.6g} gives a reverse scaling factor "
                                f"{reverse:.6g} >= 1, which TFLite's LOG_SOFTMAX rejects")
    rm, rshift = quantize_multiplier_scalar(reverse)
    return m, shift, rm, rshift, diff_min


def log_softmax_int8(x, m, shift, rm, rshift, diff_min):
    xi = x.astype(np.int64)
    diff = xi - xi.max(axis=-1, keepdims=True)
    valid = diff >= diff_min
    d_q5 = multiply_by_quantized_multiplier(diff, m, shift)
    exps = gl.rescale(gl.exp_on_negative_values(d_q5, 5), 0, 12)
    total = gl.add(np.where(valid, exps, 0).sum(axis=-1, keepdims=True), 0)
    log_sum = gl.log_x_for_x_greater_than_or_equal_to_1(total, 5, 12)
    adjusted = np.maximum(diff_min - 1,
                          multiply_by_quantized_multiplier(log_sum + INT32_MIN, rm, rshift))
    y = rounding_divide_by_pot(d_q5 - log_sum, 31 - 5 - 4) + 127
    return np.where(diff > adjusted, np.clip(y, -128, 127), -128).astype(np.int8)


@INTEGER_OPS.register("LogSoftmax")
def log_softmax(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8),))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    s_in, _ = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    if qo.dtype.numpy != np.int8 or s_out != np.float32(16 / 256) or zp_out != 127:
        raise unsupported(node, f"int8 LogSoftmax output must be (16/256, 127) as TFLite "
                                f"requires; found ({s_out:.6g}, {zp_out})", [x])
    axis = int(node.attrs.get("axis", -1)) % x.ndim
    params = prepared(ctx, node, lambda: _prepare(node, float(s_in)))
    y = log_softmax_int8(np.moveaxis(x, axis, -1), *params)
    return [np.moveaxis(y, -1, axis)]
