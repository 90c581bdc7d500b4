"""Built-in quantization specs, as data.

A :class:`~edgeq.types.QuantSpec` says what a target can run; the core quantizer
honours it. ``TFLITE_INT8`` is the default spec of :func:`edgeq.quantize.quantize`
because the TFLite target checks the integer simulator bit-exactly against LiteRT's
reference kernels; target plugins import it (``from edgeq.quantize.spec import
TFLITE_INT8``) and derive their own with :func:`dataclasses.replace`.

Every constraint cites the TFLite kernel that imposes it:

* fixed output scales: ``kernels/activations.cc`` (``SigmoidPrepare``/``TanhPrepare``/
  ``SoftmaxPrepare`` check ``output->params`` for int8 and int16);
* same-scale ops: the ``op_quant_spec`` "SameScale" traits of the TFLite converter
  (``tensorflow/compiler/mlir/lite/quantization``) and the kernels that copy data
  without rescaling (CONCATENATION, RESHAPE, TRANSPOSE, PAD, SLICE, GATHER, SPLIT,
  MAX_POOL_2D, MAXIMUM/MINIMUM);
* per-channel weights: CONV_2D and DEPTHWISE_CONV_2D (``affine_quantization`` with
  ``quantized_dimension``) and FULLY_CONNECTED (``fully_connected.cc`` computes
  per-channel multipliers when the filter has one scale per output row).
"""

from __future__ import annotations

from edgeq.types import QDType, QuantSpec

#: Ops whose output scale/zero point must equal their (first) input's.
SAME_SCALE_OPS = frozenset({
    "Concat", "MaxPool", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Max", "Min", "ReduceMax", "Identity",
    "DepthToSpace", "SpaceToDepth", "Expand", "Tile",
})

#: Fixed output params per op and activation dtype (scale, zero point).
FIXED_OUTPUT = {
    "Sigmoid": {QDType.INT8: (1.0 / 256, -128), QDType.INT16: (1.0 / 32768, 0)},
    "Softmax": {QDType.INT8: (1.0 / 256, -128), QDType.INT16: (1.0 / 32768, 0)},
    "Tanh": {QDType.INT8: (1.0 / 128, 0), QDType.INT16: (1.0 / 32768, 0)},
}

#: Ops the TFLite builtins run in int8 (and int16 for 16x8) arithmetic.
TFLITE_INTEGER_OPS = frozenset({
    "Quantize", "Dequantize",
    "Conv", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "SquaredDifference", "Rsqrt",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "Clip", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Max", "Min", "ReduceMax", "Identity",
})

TFLITE_INT8 = QuantSpec(
    name="tflite-int8",
    # int16 activations are TFLite's "16x8" mode (int16 activations, int8 weights)
    activation_dtypes=(QDType.INT8, QDType.INT16),
    per_channel_ops=frozenset({"Conv", "FullyConnected"}),
    integer_ops=TFLITE_INTEGER_OPS,
    # integer-only by default: a node that cannot run integer is an error, not a
    # silent float island (TFLite itself could run it in float; opt in explicitly)
    float_fallback_ops=frozenset(),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    # LiteRT's XNNPACK has no int8 HARD_SWISH; the builtin kernel is slow (docs/targets/tflite.md)
    decompose_ops=frozenset({"HardSwish"}),
)

#: Same as TFLITE_INT8 but lets any op without an integer kernel run in float
#: (TFLite runs mixed float/int8 graphs through QUANTIZE/DEQUANTIZE).
TFLITE_INT8_FALLBACK = QuantSpec(
    name="tflite-int8-fallback",
    activation_dtypes=TFLITE_INT8.activation_dtypes,
    per_channel_ops=TFLITE_INT8.per_channel_ops,
    integer_ops=TFLITE_INT8.integer_ops,
    float_fallback_ops=frozenset({"*"}),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    decompose_ops=TFLITE_INT8.decompose_ops,
)

DEFAULT_SPEC = TFLITE_INT8


def allows_fallback(spec: QuantSpec, op_type: str) -> bool:
    """Whether ``spec`` lets a node of ``op_type`` stay in float ("*" allows any)."""
    return "*" in spec.float_fallback_ops or op_type in spec.float_fallback_ops
