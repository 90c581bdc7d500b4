"""The Core ML target's quantization specs, as data.

What an ML Program can express (coremltools 9 op definitions,
``coremltools/converters/mil/mil/ops/defs``):

* activations: iOS17 ``quantize`` / ``dequantize`` take ``output_dtype`` int8 or uint8
  only, one scale and zero point per tensor (or per axis); there is no int16 activation
  type. edgeq's int16 (16x8) tensors therefore run in fp16 between a ``dequantize`` and
  the next ``quantize``: fp16 keeps 11 significant bits at every magnitude, which for
  the tensors edgeq promotes (LayerNorm statistics, LSTM cell state, residual streams)
  is as good as or better than a 16-bit grid over the tensor's whole range;
* weights: iOS16 ``constexpr_affine_dequantize`` (int8/uint8 data, scale and zero point
  per tensor or along one ``axis``) and iOS18 ``constexpr_blockwise_shift_scale``:
  per-output-channel symmetric int8 for ``conv`` (axis 0 of ``[O, I/g, kH, kW]``,
  depthwise included) and ``linear`` (axis 0 of ``[out, in]``);
* fixed output scales: Core ML itself accepts any scale after ``sigmoid``/``softmax``/
  ``tanh``, but edgeq's integer simulator — the golden the saved program is verified
  against — implements those ops as TFLite's fixed-scale kernels, so the spec keeps the
  conventional ``FIXED_OUTPUT`` (1/256 and 1/128 are exact in the fp16 scales the
  package stores);
* same-scale data movement: not required by Core ML, but a ``dequantize`` followed by a
  ``quantize`` with identical parameters is removed by coremltools'
  ``dequantize_quantize_pair_elimination`` pass, so sharing scales across reshape,
  transpose, concat, pooling and slicing leaves those ops on the int8 path without a
  requantization;
* every op of an ML Program can run in fp16, so any op may stay in float: it becomes
  fp16 compute between ``dequantize`` and ``quantize`` (profiles narrow this with
  ``float_fallback: false``).
"""

from __future__ import annotations

from edgeq.sdk import FIXED_OUTPUT, SAME_SCALE_OPS, QDType, QuantSpec

#: Ops whose quantized form maps onto the Neural Engine's int8 path (quantized inputs,
#: dequantize -> op -> quantize in the program).
ANE_INTEGER_OPS = frozenset({
    "Quantize", "Dequantize", "Cast",
    "Conv", "ConvTranspose", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "SquaredDifference", "Rsqrt", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool",
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Gelu", "Relu", "Clip",
    "LeakyRelu", "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Identity", "Expand", "Tile", "Resize", "Mish", "Softplus",
})

#: Ops computed in fp16 where edgeq asks for int16 activations (see the module docstring).
ANE_FP16_OPS = ANE_INTEGER_OPS - {"Quantize", "Dequantize", "Cast"}

ANE_W8A8 = QuantSpec(
    name="ane-w8a8",
    activation_dtypes=(QDType.INT8, QDType.INT16),
    per_channel_ops=frozenset({"Conv", "ConvTranspose", "FullyConnected"}),
    integer_ops=ANE_INTEGER_OPS,
    # any op may stay in fp16 (reported); the ane profile allows it
    float_fallback_ops=frozenset({"*"}),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    decompose_ops=frozenset(),
    int16_ops=ANE_FP16_OPS,
    # an LSTM is one MIL lstm (emit/lowering/recurrent.py): one op instead of ~600
    # quantize/dequantize pairs of the unrolled cell (a 0.50x -> 0.27x file for silero
    # VAD); profiles with unroll_lstm: true keep the cell ops on the Neural Engine
    fused_ops=frozenset({"LSTM"}),
)

#: The same, integer-only: a node without an int8 form is an error.
ANE_W8A8_STRICT = QuantSpec(
    name="ane-w8a8-strict",
    activation_dtypes=ANE_W8A8.activation_dtypes,
    per_channel_ops=ANE_W8A8.per_channel_ops,
    integer_ops=ANE_INTEGER_OPS,
    float_fallback_ops=frozenset(),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    int16_ops=ANE_FP16_OPS,
    fused_ops=ANE_W8A8.fused_ops,
)
