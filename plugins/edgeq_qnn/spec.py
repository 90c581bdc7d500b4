"""The QNN HTP target's quantization spec, as data.

QNN's quantized tensors are ``real = scale · (q + offset)`` with ``offset = −zero_point``
(QNN SDK, "Quantization" in the op definitions, ``Qnn_ScaleOffset_t``). edgeq quantizes
in its own scheme (int8 activations, docs/quantization.md) and the emitter shifts every
int8 activation to uint8 (``q + 128``, zero point ``+ 128``) and every int16 activation
to uint16 (``q + 32768``); the real values are identical. The constraints below are the
HTP backend's:

* per-channel weights: HTP's ``Conv2d`` / ``DepthWiseConv2d`` take int8 symmetric
  per-axis weights (``QNN_QUANTIZATION_ENCODING_AXIS_SCALE_OFFSET``, offset 0);
  ``FullyConnected`` and ``MatMul`` weights must be per-tensor, so FullyConnected is
  *not* in ``per_channel_ops`` and the quantizer gives it one scale
  (edgeq/quantize/build.py reads ``per_channel_ops``);
* int16 activations: 16-bit activations with 8-bit weights ("A16W8") exist for the ops
  in ``QNN_INT16_OPS`` (HtpOpDefSupplement lists UFIXED_POINT_16 for them);
* fixed output scales: Sigmoid/Softmax/Tanh outputs keep the conventional fixed scales
  (``FIXED_OUTPUT``), which HTP accepts as any other output encoding;
* HardSwish is one HTP op (``ElementWiseNeuron``), so it is not decomposed.
"""

from __future__ import annotations

from edgeq.sdk import FIXED_OUTPUT, SAME_SCALE_OPS, QDType, QuantSpec

#: Ops the QNN emitter lowers to QDQ ONNX that ONNX Runtime's QNN EP places on HTP.
QNN_INTEGER_OPS = frozenset({
    "Quantize", "Dequantize",
    "Conv", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceMax",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "Clip", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Identity", "Rsqrt",
})

#: Ops HTP runs with 16-bit activations (and 8-bit weights where they have weights).
QNN_INT16_OPS = frozenset({
    "Conv", "FullyConnected", "MatMul", "Add", "Sub", "Mul", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceMax",
    "Softmax", "Sigmoid", "Tanh", "Relu", "Clip", "Rsqrt", "Gelu",
    "Concat", "Reshape", "Transpose", "Flatten", "Identity", "Squeeze", "Unsqueeze",
    "Slice", "Split", "Gather", "Pad",
})

QNN_HTP = QuantSpec(
    name="qnn-htp",
    activation_dtypes=(QDType.INT8, QDType.INT16),
    # Conv (depthwise included) per output channel; FullyConnected/MatMul per tensor
    per_channel_ops=frozenset({"Conv"}),
    integer_ops=QNN_INTEGER_OPS,
    # every node on HTP: the host runner disables ONNX Runtime's CPU fallback
    float_fallback_ops=frozenset(),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    uint8_activations=True,
    decompose_ops=frozenset(),
    int16_ops=QNN_INT16_OPS,
)

#: Strict 8-bit: a profile with ``int16: false`` (no uint16 activations).
QNN_HTP_INT8 = QuantSpec(
    name="qnn-htp-int8",
    activation_dtypes=(QDType.INT8,),
    per_channel_ops=QNN_HTP.per_channel_ops,
    integer_ops=QNN_INTEGER_OPS,
    float_fallback_ops=frozenset(),
    fixed_output=FIXED_OUTPUT,
    same_scale_ops=SAME_SCALE_OPS,
    uint8_activations=True,
    decompose_ops=frozenset(),
    int16_ops=frozenset(),
)
