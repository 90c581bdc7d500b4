"""Lowerings from edgeq IR ops (NHWC, after ``convert_layout``) to TFLite builtins.

One module per op family; each registers ``lower(ctx, node)`` functions with
:func:`register`, into :data:`LOWERINGS`, the SDK's ``OpRegistry`` (the same registry
type as the core's interpreters). A lowering reads the node's tensors through the
:class:`~edgeq_tflite.emit.lower.LowerContext` (which emits constants and activations
on first use, with their dtype and quantization), writes one or more operators, and
raises :class:`~edgeq.errors.UnsupportedOpError` naming the node when TFLite has no
kernel for the configuration (e.g. an int16 op that only has an int8 kernel).

The explicit import list below is the registry's content.
"""

from __future__ import annotations

from edgeq.sdk import OpRegistry

#: op type -> lowering ``fn(ctx, node)``
LOWERINGS = OpRegistry("tflite", missing="has no TFLite lowering")
register = LOWERINGS.register
lookup = LOWERINGS.lookup


from edgeq_tflite.emit.lowering import (  # noqa: E402,F401
    activations,
    binary,
    conv,
    conv_transpose,
    fully_connected,
    lookup_table,
    lstm,
    normalization,
    pooling,
    quantize,
    reduce,
    resize,
    shape_ops,
    slicing,
    softmax,
)
