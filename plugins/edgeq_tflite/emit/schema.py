"""The TFLite flatbuffer schema (generated object API shipped with ``ai-edge-litert``),
imported here once so a missing package gives an actionable error."""

from edgeq.sdk import require_module

schema = require_module("ai_edge_litert.schema_py_generated", "ai-edge-litert", "TFLite export")
flatbuffers = require_module("flatbuffers", "flatbuffers", "TFLite export")

BuiltinOperator = schema.BuiltinOperator
TensorType = schema.TensorType
Padding = schema.Padding
Activation = schema.ActivationFunctionType
