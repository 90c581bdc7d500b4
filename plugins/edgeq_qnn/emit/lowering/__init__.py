"""Lowerings from edgeq IR ops to QDQ ONNX nodes that ONNX Runtime's QNN EP runs on HTP.

One module per op family; each registers ``lower(ctx, node)`` with ``LOWERINGS`` (an
``edgeq.sdk.OpRegistry``). A lowering reads inputs through
:class:`~edgeq_qnn.emit.qdq.QdqContext` (``ctx.value``: the dequantized ONNX tensor),
writes float ONNX nodes, and quantizes each output with edgeq's params
(``ctx.write``/``ctx.finish``). It raises ``UnsupportedOpError`` naming the node when
HTP has no quantized op for the configuration.

The explicit import list below is the registry's content.
"""

from __future__ import annotations

from edgeq.sdk import OpRegistry, UnsupportedOpError

LOWERINGS = OpRegistry("QNN lowering")


def lookup(node):
    if node.op_type not in LOWERINGS:
        raise UnsupportedOpError(
            f"node '{node.name}': op type '{node.op_type}' has no QNN HTP lowering; supported: "
            f"{', '.join(sorted(LOWERINGS.op_types))}", op_type=node.op_type, nodes=[node.name])
    return LOWERINGS.lookup(node)


from edgeq_qnn.emit.lowering import (  # noqa: E402,F401
    boundary,
    elementwise,
    linear,
    passthrough,
)
