"""Quantize / Dequantize / Cast / Identity: the QuantizedGraph's boundary and converters.

In the program every tensor is its real value (emit/context.py), so a ``Quantize``
(float -> int8, or a requantization int8 <-> int16) is a ``quantize``/``dequantize``
pair with the *output's* parameters when the output is int8, and nothing when it is
int16 (fp16 on Core ML); a ``Dequantize`` is the identity on real values.
"""

from __future__ import annotations

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("Quantize", "Dequantize", "Identity")
def lower_pass_through(ctx, node):
    ctx.set(node.outputs[0], ctx.value(node.inputs[0]))


@LOWERINGS.register("Cast")
def lower_cast(ctx, node):
    import numpy as np

    to = np.dtype(ctx.ir(node.outputs[0]).dtype)
    if to.kind == "f":
        dtype = "fp32"
    elif to.kind in "iu":
        dtype = "int32"  # Core ML tensors have no int64; index tensors are int32
    elif to.kind == "b":
        dtype = "bool"
    else:
        raise ctx.unsupported(node, f"cast to {to} has no Core ML type")
    x = ctx.value(node.inputs[0])
    if isinstance(x, np.ndarray):
        ctx.set(node.outputs[0], x.astype(np.float32 if dtype == "fp32" else np.int32))
        return
    ctx.set(node.outputs[0], ctx.mb.cast(x=x, dtype=dtype))
