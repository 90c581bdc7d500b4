"""The TFLite target's quantization specs, as data.

A :class:`~edgeq.sdk.QuantSpec` says what a target can run; the core quantizer honours
it. ``TFLITE_INT8`` is also the spec :func:`edgeq.quantize` uses when called without
one (:meth:`TFLiteTarget.default_quant_spec`), because the TFLite target checks the
integer simulator bit-exactly against LiteRT's reference kernels.

Every constraint cites the TFLite kernel that imposes it:

* fixed output scales: ``kernels/activations.cc`` (``SigmoidPrepare``/``TanhPrepare``/
  ``SoftmaxPrepare`` check ``output->params`` for int8 and int16);
* same-scale ops: the ``op_quant_spec`` "SameScale" traits of the TFLite converter
  (``tensorflow/compiler/mlir/lite/quantization``) and the kernels that copy data
  without rescaling (CONCATENATION, RESHAPE, TRANSPOSE, PAD, SLICE, GATHER, SPLIT,
  MAX_POOL_2D, MAXIMUM/MINIMUM);
* per-channel weights: CONV_2D and DEPTHWISE_CONV_2D (``affine_quantization`` with
  ``quantized_dimension``) and FULLY_CONNECTED (``fully_connected.cc`` computes
  per-channel multipliers when the filter has one scale per output row);
* int16 (16x8) kernels: every op below has an int16 activation path in the builtin
  kernels except the LUT-based int8 kernels GELU and HARD_SWISH, and
  SQUARED_DIFFERENCE (``squared_difference.cc`` accepts int8 only).
"""

from __future__ import annotations

from edgeq.sdk import FIXED_OUTPUT, SAME_SCALE_OPS, QDType, QuantSpec

#: Ops the TFLite builtins run in int8 (and int16 for 16x8) arithmetic.
TFLITE_INTEGER_OPS = frozenset({
    "Quantize", "Dequantize",
    "Conv", "ConvTranspose", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "SquaredDifference", "Rsqrt",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceSum",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "Clip", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Max", "Min", "ReduceMax", "Identity", "Resize",
    "Expand", "Tile", "Mish", "Softplus",
})

#: Ops whose TFLite kernel has an int16 (16x8) variant.
TFLITE_INT16_OPS = frozenset({
    "Conv", "FullyConnected", "MatMul", "Add", "Sub", "Mul", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceMax",
    "Softmax", "Sigmoid", "Tanh", "Relu", "LeakyRelu", "Rsqrt", "Clip",
    "Concat", "Reshape", "Transpose", "Flatten", "Identity", "Squeeze", "Unsqueeze",
    "Slice", "Split", "Expand", "Tile", "DepthToSpace", "SpaceToDepth", "Gather", "Pad",
})

TFLITE_INT8 = QuantSpec(
    name="tflite-int8",
    # int16 activations are TFLite's "16x8" mode (int16 activations, int8 weights)
    activation_dtypes=(QDType.INT8, QDType.INT16),
    # TRANSPOSE_CONV takes per-channel filters too (transpose_conv.cc, quantized_dimension 0)
    per_channel_ops=frozenset({"Conv", "ConvTranspose", "FullyConnected"}),
    integer_ops=TFLITE_INTEGER_OPS,
    # integer-only by default: a node that cannot run integer is an error, not a
    # silent float island (TFLite itself could run it in float; opt in explicitly)
    float_fallback_ops=frozenset(),
    fixed_output=FIXED_OUTPUT,
    # AVERAGE_POOL_2D and REDUCE_MIN/MAX reuse the input quantization (pooling.cc, reduce.cc),
    # RESIZE_NEAREST_NEIGHBOR copies values
    same_scale_ops=SAME_SCALE_OPS | {"AveragePool", "GlobalMaxPool", "ReduceMin", "Resize"},
    # LiteRT's XNNPACK has no int8 HARD_SWISH; the builtin kernel is slow (docs/targets/tflite.md)
    decompose_ops=frozenset({"HardSwish"}),
    int16_ops=TFLITE_INT16_OPS,
    # an LSTM runs as one integer UNIDIRECTIONAL_SEQUENCE_LSTM (8x8_16, int16 cell state,
    # kernels/lstm_eval.cc EvalInteger8x8_16) instead of its unrolled steps, whose
    # int16 MUL/ADD/TANH land on slow reference paths (docs/targets/tflite.md)
    fused_ops=frozenset({"LSTM"}),
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
    same_scale_ops=TFLITE_INT8.same_scale_ops,
    decompose_ops=TFLITE_INT8.decompose_ops,
    int16_ops=TFLITE_INT16_OPS,
    fused_ops=TFLITE_INT8.fused_ops,
)
