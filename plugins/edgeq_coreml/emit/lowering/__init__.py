"""Lowerings from edgeq IR ops (NCHW) to MIL builder ops, in one ``OpRegistry``.

One module per op family; each registers ``lower(ctx, node)`` with
``@LOWERINGS.register("OpType")``. A lowering reads the node's inputs through the
:class:`~edgeq_coreml.emit.context.EmitContext` (real values: MIL Vars or numpy
constants), writes MIL ops and binds the outputs with ``ctx.finish`` / ``ctx.set``
(fused clamp, then quantize/dequantize for int8 tensors). A configuration Core ML
cannot express raises ``UnsupportedOpError`` naming the node.

The explicit import list below is the registry's content.
"""

from __future__ import annotations

from edgeq.sdk import OpRegistry, UnsupportedOpError

LOWERINGS = OpRegistry("Core ML lowering")


def lookup(node):
    if node.op_type not in LOWERINGS:
        raise UnsupportedOpError(
            f"node '{node.name}': op type '{node.op_type}' has no Core ML (MIL) lowering; "
            f"supported: {', '.join(sorted(LOWERINGS.op_types))}",
            op_type=node.op_type, nodes=[node.name])
    return LOWERINGS.lookup(node)


from edgeq_coreml.emit.lowering import (  # noqa: E402,F401
    activations,
    binary,
    conv,
    conv_transpose,
    linear,
    pooling,
    quantize,
    recurrent,
    reduce,
    shape_ops,
    slicing,
)
