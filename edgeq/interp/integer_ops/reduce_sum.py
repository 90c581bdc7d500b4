"""ReduceSum (TFLite SUM), int8/int16: ``QuantizedMeanOrSum`` with ``compute_sum``
(reference/reduce.h; kernels/reduce.cc ``EvalSum``) — the int32 sum minus
``zp_in · n``, ``MultiplyByQuantizedMultiplier`` by ``QuantizeMultiplier(s_in / s_out)``,
``+ zp_out``, clamped. See reduce_mean.py."""

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import in_quant, out_quant
from edgeq.interp.integer_ops.reduce_mean import quantized_mean, reduce_axes


@INTEGER_OPS.register("ReduceSum")
def reduce_sum(node, inputs, ctx):
    x = inputs[0]
    axes = reduce_axes(ctx, node, x)
    keepdims = bool(node.attrs.get("keepdims", 1))
    return [quantized_mean(node, x, in_quant(ctx, node), out_quant(ctx, node), axes, keepdims,
                           compute_sum=True)]
