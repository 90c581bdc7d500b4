"""The QNN HTP target's quantization spec, as data.

QNN's quantized tensors are ``real = scale · (q + offset)`` with ``offset = −zero_point``
(QNN SDK, "Quantization" in the op definitions, ``Qnn_ScaleOffset_t``). edgeq quantizes
in its own scheme (int8 activations, docs/quantization.md) and the emitter shifts every
int8 activation to uint8 (``q + 128``, zero point ``+ 128``) and every int16 activation
to uint16 (``q + 32768``); the real values are identical. The constraints below are the
HTP backend's:

* per-channel weights: HTP's ``Conv2d`` / ``DepthWiseConv2d`` take int8 symmetric
  per-axis weights (``QNN_QUANTIZATION_ENCODING_AXIS_SCALE_OFFSET``, offset 0); HTP's
  ``FullyConnected`` takes one weight scale, so the emitter lowers a FullyConnected with
  per-channel weights to a 1×1 ``Conv2d`` over ``[rows, in, 1, 1]``
  (emit/lowering/linear.py), the same arithmetic with one multiplier per output channel.
  FullyConnected is therefore in ``per_channel_ops`` (the quantizer,
  edgeq/quantize/pipeline/graph_builder.py, gives it one scale per output row);
  ``QNN_HTP_FC_PER_TENSOR`` is the spec with per-tensor FullyConnected weights, lowered
  to HTP's ``FullyConnected``;
* int16 activations: 16-bit activations with 8-bit weights ("A16W8") exist for the ops
  in ``QNN_INT16_OPS`` (HtpOpDefSupplement lists UFIXED_POINT_16 for them);
* fixed output scales: Sigmoid/Softmax/Tanh outputs keep the conventional fixed scales
  (``FIXED_OUTPUT``), which HTP accepts as any other output encoding;
* HardSwish is one HTP op (``ElementWiseNeuron``), so it is not decomposed.
"""

from __future__ import annotations

import dataclasses

from edgeq.sdk import FIXED_OUTPUT, SAME_SCALE_OPS, QDType, QuantSpec

#: Ops the QNN emitter lowers to QDQ ONNX that ONNX Runtime's QNN EP places on HTP.
QNN_INTEGER_OPS = frozenset({
    "Quantize", "Dequantize",
    "Conv", "ConvTranspose", "FullyConnected", "MatMul",
    "Add", "Sub", "Mul", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceMax",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "Clip", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather", "Split",
    "Squeeze", "Unsqueeze", "Flatten", "Identity", "Rsqrt", "Expand", "Resize", "Softplus",
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
    # Conv (depthwise included) and FullyConnected (emitted as a 1x1 Conv) per output channel
    per_channel_ops=frozenset({"Conv", "ConvTranspose", "FullyConnected"}),
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

#: Per-tensor FullyConnected weights (HTP's own ``FullyConnected`` op, ``Gemm`` in the
#: QDQ model), for comparison and for users who need that op in the context binary.
QNN_HTP_FC_PER_TENSOR = dataclasses.replace(QNN_HTP, name="qnn-htp-fc-per-tensor",
                                            per_channel_ops=frozenset({"Conv"}))
