"""FullyConnected -> FULLY_CONNECTED, MatMul -> BATCH_MATMUL.

FULLY_CONNECTED (tensorflow/lite/kernels/fully_connected.cc) takes ``W[out, in]`` with
per-channel int8 scales along axis 0 and an int32 bias (int64 for 16x8). It flattens an
input of rank > 2 to ``[rows, in]``; the leading axes are restored by a RESHAPE after it
rather than with ``keep_num_dims`` (version 5), whose per-channel int8 reference kernel
returns wrong values in TFLite 2.14, 2.15 and 2.16 (measured: up to 255 LSB off; the
same operator without ``keep_num_dims`` is bit-exact there; see
tests/test_tflite_runtime.py and docs/targets/tflite.md). A missing
bias is made explicit (zeros) so the operator stays at version 4 and every delegate
takes it.
MatMul of two activations is BATCH_MATMUL (batch_matmul.cc): per-tensor quantization
on both operands, batch axes broadcast.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import (INT_ACTIVATIONS, fused, opts, require_dtypes, reshape,
                                                unfused)
from edgeq_tflite.emit.lowering.conv import zero_bias
from edgeq_tflite.emit.schema import BuiltinOperator as B


@register("FullyConnected")
def lower_fully_connected(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    if x.quant is not None:
        require_dtypes(ctx, node, x, INT_ACTIVATIONS, "FULLY_CONNECTED")
    w_ir = ctx.ir(node.inputs[1])
    if w_ir.data is None and x.quant is not None:
        raise ctx.unsupported(node, "a quantized FULLY_CONNECTED needs constant weights")
    w = ctx.tensor(node.inputs[1])
    c_out = w.shape[0]
    if len(node.inputs) > 2 and node.inputs[2]:
        b = ctx.tensor(node.inputs[2])
    else:
        b = zero_bias(ctx, node.name, x, w.quant, c_out)
    y, act, finish = fused(ctx, node, node.outputs[0])
    options = opts("FullyConnectedOptions", fusedActivationFunction=act, keepNumDims=False)
    if len(x.shape) == 2:
        ctx.op(B.FULLY_CONNECTED, [x, w, b], [y], options)
    else:
        if len(x.shape) == 1:
            x = reshape(ctx, x, (1, x.shape[0]))
        rows = max(1, int(np.prod(x.shape[:-1])))
        y2 = ctx.new(f"{y.name}_2d", y.dtype, (rows, c_out), y.quant)
        ctx.op(B.FULLY_CONNECTED, [x, w, b], [y2], options)
        reshape(ctx, y2, y.shape, out=y)
    finish()


@register("MatMul")
def lower_matmul(ctx, node) -> None:
    a = ctx.tensor(node.inputs[0])
    b = ctx.tensor(node.inputs[1])
    for t in (a, b):
        if t.quant is not None:
            require_dtypes(ctx, node, t, INT_ACTIVATIONS, "BATCH_MATMUL")
            if t.quant.scale.size > 1:
                raise ctx.unsupported(node, f"BATCH_MATMUL needs per-tensor quantization; "
                                            f"'{t.name}' is per-channel (use FullyConnected for "
                                            "constant weights)")
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise ctx.unsupported(node, "BATCH_MATMUL needs operands of rank >= 2")
    y, finish = unfused(ctx, node, node.outputs[0])
    ctx.op(B.BATCH_MATMUL, [a, b], [y], opts("BatchMatMulOptions", adjX=False, adjY=False))
    finish()
