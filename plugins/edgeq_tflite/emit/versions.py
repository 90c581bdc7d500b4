"""Operator versions and the model's minimum runtime version.

:func:`op_version` ports ``GetBuiltinOperatorVersion`` of
tensorflow/lite/tools/versioning/op_version.cc for the builtins edgeq emits, from the
operator's input/output tensor types and options - the version the TF Lite converter
would write for the same operator. One deliberate difference: for 16x8 CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED (int16 activations, int8 filter) the converter's
condition tests the *filter* for int16, which a 16x8 model never has, so it falls
through to version 1. edgeq writes the int16 versions the comments and
runtime_version.cc name for those kernels (CONV_2D 4, DEPTHWISE_CONV_2D 5,
FULLY_CONNECTED 7, all "2.3.0"), so ``min_runtime_version`` is truthful.

:func:`min_runtime_version` ports ``FindMinimumRuntimeVersionForOp`` /
``UpdateMinimumRuntimeVersionForModel`` of tensorflow/lite/tools/versioning/
runtime_version.cc (the table is trimmed to the builtins edgeq emits).
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.schema import BuiltinOperator as B

I8, I16, I32, I64 = np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64)
U8, F32, F16 = np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float16)


def _t(info) -> np.dtype | None:
    return None if info is None else np.dtype(info.dtype)


def _per_channel(info) -> bool:
    return info is not None and info.quant is not None and info.quant.scale.size > 1


def op_version(builtin: int, inputs: list, outputs: list, options=None) -> int:
    """Version of one operator; ``inputs``/``outputs`` are TensorInfo (None = omitted)."""
    i0 = _t(inputs[0]) if inputs else None
    i1 = _t(inputs[1]) if len(inputs) > 1 else None
    o0 = _t(outputs[0]) if outputs else None
    rank0 = len(inputs[0].shape) if inputs and inputs[0] is not None else 0

    if builtin == B.CONV_2D:
        if i0 == I16 and i1 == I8 and o0 == I16:
            return 4
        if i0 == I8 and i1 == I8 and o0 == I8:
            return 3
        if i0 == F32 and i1 == I8 and o0 == F32:
            return 5 if _per_channel(inputs[1]) else 2
        return 1
    if builtin == B.RESIZE_BILINEAR:
        if i0 == I16:
            return 4
        if options is not None and options.halfPixelCenters:
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.RESIZE_NEAREST_NEIGHBOR:
        if i0 == I16:
            return 4
        if options is not None and (options.alignCorners or options.halfPixelCenters):
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.TRANSPOSE_CONV:  # inputs: output shape, filter, input, bias
        if len(inputs) > 3 and inputs[3] is not None:
            return 3
        return 2 if i1 == I8 else 1
    if builtin == B.DEPTHWISE_CONV_2D:
        if i0 == I16 and i1 == I8 and o0 == I16:
            return 5
        if i0 == I8 and i1 == I8 and o0 == I8:
            return 3
        if options is not None and (options.dilationWFactor != 1 or options.dilationHFactor != 1):
            return 2
        return 1
    if builtin == B.FULLY_CONNECTED:
        if i0 == I16 and i1 == I8 and o0 == I16:
            return 7
        if len(inputs) == 2 or (len(inputs) == 3 and inputs[2] is None):
            return 6
        if options is not None and options.keepNumDims:
            return 5
        if i0 == I8 and i1 == I8 and o0 == I8:
            return 4
        return 1
    if builtin == B.GATHER:
        if i1 == I16:
            return 6
        if i0 == I16:
            return 4
        return 2 if i0 == I8 else 1
    if builtin == B.MUL:
        if i0 == I16:
            return 4
        if all(x is not None and x.quant is not None for x in (*inputs[:2], outputs[0])):
            s = float(inputs[0].quant.scale[0]) * float(inputs[1].quant.scale[0])
            if s / float(outputs[0].quant.scale[0]) >= 1.0:
                return 3
        return 2 if i0 == I8 else 1
    if builtin in (B.MAX_POOL_2D, B.AVERAGE_POOL_2D):
        if i0 == I16 and o0 == I16:
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.TRANSPOSE:
        if rank0 > 5:
            return 6
        if i0 == I16:
            return 5
        if rank0 > 4:
            return 4
        return 2 if i0 == I8 else 1
    if builtin == B.SPLIT:  # the data is input 1, input 0 is the axis
        return 4 if i1 == I16 else 3 if i1 == I32 else 2 if i1 == I8 else 1
    if builtin == B.SLICE:
        if rank0 > 4:
            return 5
        if i0 == I16:
            return 4
        return 2 if i0 == I8 else 1
    if builtin == B.STRIDED_SLICE:
        if options is not None and (options.ellipsisMask or options.newAxisMask):
            return 6
        if rank0 > 4:
            return 4
        return 2 if i0 == I8 else 1
    if builtin == B.DEQUANTIZE:
        if i0 in (I16, F16):
            return 3
        if i0 == I8:
            return 5 if _per_channel(inputs[0]) else 2
        return 1
    if builtin == B.QUANTIZE:
        if _per_channel(outputs[0]):
            return 3
        return 2 if o0 == I16 else 1
    if builtin == B.RELU:
        return 3 if i0 == I16 else 2 if i0 in (I8, U8) else 1
    if builtin in (B.MAXIMUM, B.MINIMUM):
        if i0 == I16 and o0 == I16:
            return 4
        if len(inputs) > 1 and inputs[0].shape != inputs[1].shape and \
                max(len(x.shape) for x in inputs) > 4:
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.ADD:
        if i0 == I16 and o0 == I16 and options is not None and not options.potScaleInt16:
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.SUB:
        if i0 == I16 and o0 == I16 and options is not None and not options.potScaleInt16:
            return 5
        if len(inputs) > 1 and inputs[0].shape != inputs[1].shape and \
                max(len(x.shape) for x in inputs) > 4:
            return 3
        return 2 if i0 == I8 else 1
    if builtin in (B.TANH, B.LOGISTIC):
        if i0 == I16 and o0 == I16:
            return 3
        return 2 if i0 == I8 else 1
    if builtin == B.BATCH_MATMUL:
        return 3 if i0 == I16 else 2 if i0 == I8 else 1
    if builtin in (B.PAD, B.PADV2):
        if rank0 > 4:
            return 4
        return 3 if i0 == I16 else 2 if i0 == I8 else 1
    if builtin == B.CONCATENATION:
        return 3 if i0 == I16 else 2 if i0 == I8 else 1
    if builtin in (B.SOFTMAX, B.MEAN, B.MIRROR_PAD, B.REDUCE_MAX, B.REDUCE_MIN, B.RELU6, B.RSQRT):
        return 3 if i0 == I16 else 2 if i0 == I8 else 1
    if builtin in (B.SPLIT_V, B.SUM, B.SQUARED_DIFFERENCE, B.DEPTH_TO_SPACE, B.LOG_SOFTMAX):
        return 2 if i0 == I8 else 1
    if builtin == B.LEAKY_RELU:
        return 2 if i0 == I16 else 1
    if builtin == B.GELU:
        return 2 if i0 in (I8, U8) else 1
    if builtin == B.CAST:
        if i0 == F16 or o0 == F16:
            return 5
        return 3 if I8 in (i0, o0) else 1
    if builtin == B.TILE:
        return 3 if i0 == I8 else 1
    if builtin == B.BROADCAST_TO:  # version 1 was withdrawn (op_version.cc)
        return 3 if i0 in (I8, I16) else 2
    if builtin in (B.ARG_MAX, B.ARG_MIN):
        return 2 if i0 == I8 else 1
    if builtin in (B.EXP, B.LOG):
        return 2 if i0 in (I8, I16) else 1
    return 1


# (builtin, version) -> first TF Lite runtime that has it (runtime_version.cc)
_RUNTIME = {
    (B.AVERAGE_POOL_2D, 1): "1.5.0", (B.AVERAGE_POOL_2D, 2): "1.14.0", (B.AVERAGE_POOL_2D, 3): "2.3.0",
    (B.BATCH_MATMUL, 1): "2.3.0", (B.BATCH_MATMUL, 2): "2.3.0", (B.BATCH_MATMUL, 3): "2.4.0",
    (B.CONV_2D, 1): "1.5.0", (B.CONV_2D, 2): "1.14.0", (B.CONV_2D, 3): "1.14.0",
    (B.CONV_2D, 4): "2.3.0", (B.CONV_2D, 5): "2.4.0", (B.CONV_2D, 6): "2.9.0",
    (B.RESIZE_BILINEAR, 1): "1.5.0", (B.RESIZE_BILINEAR, 2): "1.14.0", (B.RESIZE_BILINEAR, 3): "2.2.0",
    (B.RESIZE_BILINEAR, 4): "2.5.0",
    (B.RESIZE_NEAREST_NEIGHBOR, 1): "1.13.0", (B.RESIZE_NEAREST_NEIGHBOR, 2): "1.14.0",
    (B.RESIZE_NEAREST_NEIGHBOR, 3): "2.3.0", (B.RESIZE_NEAREST_NEIGHBOR, 4): "2.4.0",
    (B.TRANSPOSE_CONV, 1): "1.9.0", (B.TRANSPOSE_CONV, 2): "2.2.0", (B.TRANSPOSE_CONV, 3): "2.3.0",
    (B.DEPTHWISE_CONV_2D, 1): "1.5.0", (B.DEPTHWISE_CONV_2D, 2): "1.12.0",
    (B.DEPTHWISE_CONV_2D, 3): "1.14.0", (B.DEPTHWISE_CONV_2D, 4): "2.2.0",
    (B.DEPTHWISE_CONV_2D, 5): "2.3.0", (B.DEPTHWISE_CONV_2D, 6): "2.3.0",
    (B.ADD, 1): "1.5.0", (B.ADD, 2): "1.14.0", (B.ADD, 3): "2.4.0", (B.ADD, 4): "2.6.0",
    (B.SUB, 1): "1.6.0", (B.SUB, 2): "1.14.0", (B.SUB, 3): "2.3.0", (B.SUB, 4): "2.4.0",
    (B.SUB, 5): "2.4.0", (B.DIV, 1): "1.6.0", (B.DIV, 2): "2.3.0",
    (B.CAST, 1): "1.5.0", (B.CAST, 2): "2.7.0", (B.CAST, 3): "2.8.0", (B.CAST, 4): "2.9.0",
    (B.CONCATENATION, 1): "1.5.0", (B.CONCATENATION, 2): "1.14.0", (B.CONCATENATION, 3): "2.3.0",
    (B.FULLY_CONNECTED, 1): "1.5.0", (B.FULLY_CONNECTED, 2): "1.10.0",
    (B.FULLY_CONNECTED, 3): "1.14.0", (B.FULLY_CONNECTED, 4): "1.14.0",
    (B.FULLY_CONNECTED, 5): "2.0.0", (B.FULLY_CONNECTED, 6): "2.1.0",
    (B.FULLY_CONNECTED, 7): "2.3.0", (B.FULLY_CONNECTED, 8): "2.3.0", (B.FULLY_CONNECTED, 9): "2.3.0",
    (B.GATHER, 1): "1.6.0", (B.GATHER, 2): "1.14.0", (B.GATHER, 3): "1.15.0",
    (B.GATHER, 4): "2.4.0", (B.GATHER, 5): "2.5.0",
    (B.MAX_POOL_2D, 1): "1.5.0", (B.MAX_POOL_2D, 2): "1.14.0", (B.MAX_POOL_2D, 3): "2.3.0",
    (B.MAXIMUM, 1): "1.14.0", (B.MAXIMUM, 2): "1.14.0", (B.MAXIMUM, 3): "2.3.0", (B.MAXIMUM, 4): "2.3.0",
    (B.MINIMUM, 1): "1.14.0", (B.MINIMUM, 2): "1.14.0", (B.MINIMUM, 3): "2.3.0", (B.MINIMUM, 4): "2.3.0",
    (B.MUL, 1): "1.5.0", (B.MUL, 2): "1.14.0", (B.MUL, 3): "1.15.0", (B.MUL, 4): "2.3.0",
    (B.PAD, 1): "1.5.0", (B.PAD, 2): "1.14.0", (B.PAD, 3): "2.4.0", (B.PAD, 4): "2.6.0",
    (B.PADV2, 1): "1.9.0", (B.PADV2, 2): "1.14.0", (B.PADV2, 3): "2.4.0", (B.PADV2, 4): "2.6.0",
    (B.TILE, 1): "1.10.1", (B.TILE, 2): "2.2.0", (B.TILE, 3): "2.8.0",
    (B.RESHAPE, 1): "1.5.0", (B.SOFTMAX, 1): "1.5.0", (B.SOFTMAX, 2): "1.14.0", (B.SOFTMAX, 3): "2.3.0",
    (B.TRANSPOSE, 1): "1.6.0", (B.TRANSPOSE, 2): "1.14.0", (B.TRANSPOSE, 3): "1.15.0",
    (B.TRANSPOSE, 4): "2.3.0", (B.TRANSPOSE, 5): "2.4.0",
    (B.MEAN, 1): "1.6.0", (B.MEAN, 2): "1.14.0", (B.MEAN, 3): "2.4.0",
    (B.SUM, 1): "1.10.0", (B.SUM, 2): "1.15.0",
    (B.REDUCE_MAX, 1): "1.11.0", (B.REDUCE_MAX, 2): "1.14.0", (B.REDUCE_MAX, 3): "2.5.0",
    (B.REDUCE_MIN, 1): "1.11.0", (B.REDUCE_MIN, 2): "1.14.0", (B.REDUCE_MIN, 3): "2.5.0",
    (B.RELU6, 1): "1.5.0", (B.RELU6, 2): "1.14.0", (B.RELU6, 3): "2.5.0",
    (B.SQUEEZE, 1): "1.6.0", (B.SPLIT, 1): "1.5.0", (B.SPLIT, 2): "1.14.0", (B.SPLIT, 3): "1.14.0",
    (B.SPLIT, 4): "2.3.0", (B.SPLIT_V, 1): "1.13.1", (B.SPLIT_V, 2): "2.3.0",
    (B.STRIDED_SLICE, 1): "1.6.0", (B.STRIDED_SLICE, 2): "1.14.0", (B.STRIDED_SLICE, 3): "2.1.0",
    (B.STRIDED_SLICE, 4): "2.2.0", (B.STRIDED_SLICE, 5): "2.5.0", (B.STRIDED_SLICE, 6): "2.6.0",
    (B.SLICE, 1): "1.14.0", (B.SLICE, 2): "1.14.0", (B.SLICE, 3): "1.14.0", (B.SLICE, 4): "2.4.0",
    (B.SLICE, 5): "2.5.0", (B.TANH, 1): "1.14.0", (B.TANH, 2): "1.14.0", (B.TANH, 3): "2.3.0",
    (B.LEAKY_RELU, 1): "1.13.1", (B.LEAKY_RELU, 2): "2.3.0",
    (B.LOGISTIC, 1): "1.14.0", (B.LOGISTIC, 2): "1.14.0", (B.LOGISTIC, 3): "2.3.0",
    (B.LOG_SOFTMAX, 1): "1.14.0", (B.LOG_SOFTMAX, 2): "1.14.0",
    (B.SQUARED_DIFFERENCE, 1): "1.13.1", (B.SQUARED_DIFFERENCE, 2): "2.5.0",
    (B.MIRROR_PAD, 1): "1.13.1", (B.MIRROR_PAD, 2): "2.3.0",
    (B.DEQUANTIZE, 1): "1.13.1", (B.DEQUANTIZE, 2): "1.14.0", (B.DEQUANTIZE, 3): "1.15.0",
    (B.DEQUANTIZE, 4): "2.2.0", (B.DEQUANTIZE, 5): "2.7.0",
    (B.QUANTIZE, 1): "1.14.0", (B.QUANTIZE, 2): "1.15.0", (B.QUANTIZE, 3): "2.7.0",
    (B.RELU, 1): "1.5.0", (B.RELU, 2): "2.1.0", (B.RELU, 3): "2.5.0",
    (B.RELU_N1_TO_1, 1): "1.5.0", (B.RELU_0_TO_1, 1): "2.10.0",
    (B.EXP, 1): "1.7.0", (B.NEG, 1): "1.9.0", (B.POW, 1): "1.10.0", (B.LOG, 1): "1.14.0",
    (B.SQRT, 1): "1.10.0", (B.RSQRT, 1): "1.10.0", (B.RSQRT, 2): "2.5.0",
    (B.ABS, 1): "1.13.0", (B.HARD_SWISH, 1): "1.15.0",
    (B.GELU, 1): "2.9.0", (B.GELU, 2): "2.9.0",
    (B.BROADCAST_TO, 2): "2.5.0", (B.BROADCAST_TO, 3): "2.5.0",
    (B.ARG_MAX, 1): "1.9.0", (B.ARG_MAX, 2): "1.14.0", (B.ARG_MIN, 1): "1.9.0", (B.ARG_MIN, 2): "1.14.0",
    (B.DEPTH_TO_SPACE, 1): "2.1.0",
    (B.DEPTH_TO_SPACE, 2): "2.5.0",
}


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def min_runtime_version(versions: dict[int, int]) -> str:
    """Highest runtime version any (builtin, version) pair needs; "" if none is known."""
    found = [_RUNTIME[(b, v)] for b, v in versions.items() if (b, v) in _RUNTIME]
    return max(found, key=_key) if found else ""
