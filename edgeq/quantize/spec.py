"""Target-neutral building blocks of quantization specs, as data.

A :class:`~edgeq.types.QuantSpec` says what a target can run; the core quantizer
honours it. Targets define their specs in their plugin (``edgeq_tflite.spec``,
``edgeq_coreml.spec`` …) from these blocks, which follow the integer kernels' common
conventions (TFLite's reference kernels define them; Core ML's and QNN's quantized ops
follow the same rules):

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


def allows_fallback(spec: QuantSpec, op_type: str) -> bool:
    """Whether ``spec`` lets a node of ``op_type`` stay in float ("*" allows any)."""
    return "*" in spec.float_fallback_ops or op_type in spec.float_fallback_ops
