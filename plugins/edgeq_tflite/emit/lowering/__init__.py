"""Lowerings from edgeq IR ops (NHWC, after ``convert_layout``) to TFLite builtins.

One module per op family; each registers ``lower(ctx, node)`` functions with
:func:`register`. A lowering reads the node's tensors through the
:class:`~edgeq_tflite.emit.lower.LowerContext` (which emits constants and activations
on first use, with their dtype and quantization), writes one or more operators, and
raises :class:`~edgeq.errors.UnsupportedOpError` naming the node when TFLite has no
kernel for the configuration (e.g. an int16 op that only has an int8 kernel).

The explicit import list below is the registry's content.
"""

from __future__ import annotations

from typing import Callable

from edgeq.sdk import UnsupportedOpError

Lowering = Callable[..., None]
LOWERINGS: dict[str, Lowering] = {}


def register(*op_types: str) -> Callable[[Lowering], Lowering]:
    def deco(fn: Lowering) -> Lowering:
        for op in op_types:
            assert op not in LOWERINGS, f"lowering for {op} registered twice"
            LOWERINGS[op] = fn
        return fn

    return deco


def lookup(node) -> Lowering:
    try:
        return LOWERINGS[node.op_type]
    except KeyError:
        raise UnsupportedOpError(
            f"node '{node.name}': op type '{node.op_type}' has no TFLite lowering; supported: "
            f"{', '.join(sorted(LOWERINGS))}", op_type=node.op_type, nodes=[node.name]) from None


from edgeq_tflite.emit.lowering import (  # noqa: E402,F401
    activations,
    binary,
    conv,
    conv_transpose,
    fully_connected,
    normalization,
    pooling,
    quantize,
    reduce,
    resize,
    shape_ops,
    slicing,
    softmax,
)
