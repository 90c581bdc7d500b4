"""Operator versions against the rules of tensorflow/lite/tools/versioning/op_version.cc
(expected values read off that file), and min_runtime_version from runtime_version.cc."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq_tflite.emit.lowering._common import opts
from edgeq_tflite.emit.schema import BuiltinOperator as B
from edgeq_tflite.emit.versions import min_runtime_version, op_version
from edgeq_tflite.emit.writer import TensorInfo
from edgeq.testing.qgraph import qp

F32, I8, I16, I32, I64 = np.float32, np.int8, np.int16, np.int32, np.int64


def t(dtype, shape=(1, 4), q=None):
    if q is None and np.dtype(dtype) in (np.dtype(I8), np.dtype(I16)):
        q = qp(0.1, 0, np.dtype(dtype).name)
    return TensorInfo(0, "t", np.dtype(dtype), tuple(shape), q)


CASES = [
    ("CONV_2D int8", B.CONV_2D, [t(I8), t(I8), t(I32)], [t(I8)], None, 3),
    ("CONV_2D 16x8", B.CONV_2D, [t(I16), t(I8), t(I64)], [t(I16)], None, 4),
    ("CONV_2D float", B.CONV_2D, [t(F32), t(F32), t(F32)], [t(F32)], None, 1),
    ("DEPTHWISE int8", B.DEPTHWISE_CONV_2D, [t(I8), t(I8), t(I32)], [t(I8)],
     opts("DepthwiseConv2DOptions", dilationWFactor=1, dilationHFactor=1), 3),
    ("DEPTHWISE 16x8", B.DEPTHWISE_CONV_2D, [t(I16), t(I8), t(I64)], [t(I16)], None, 5),
    ("DEPTHWISE float dilated", B.DEPTHWISE_CONV_2D, [t(F32), t(F32)], [t(F32)],
     opts("DepthwiseConv2DOptions", dilationWFactor=2, dilationHFactor=1), 2),
    ("FC int8", B.FULLY_CONNECTED, [t(I8), t(I8), t(I32)], [t(I8)],
     opts("FullyConnectedOptions", keepNumDims=False), 4),
    ("FC int8 keep_num_dims", B.FULLY_CONNECTED, [t(I8), t(I8), t(I32)], [t(I8)],
     opts("FullyConnectedOptions", keepNumDims=True), 5),
    ("FC int8 no bias", B.FULLY_CONNECTED, [t(I8), t(I8)], [t(I8)], opts("FullyConnectedOptions"), 6),
    ("FC 16x8", B.FULLY_CONNECTED, [t(I16), t(I8), t(I64)], [t(I16)], opts("FullyConnectedOptions"), 7),
    ("ADD int8", B.ADD, [t(I8), t(I8)], [t(I8)], opts("AddOptions", potScaleInt16=False), 2),
    ("ADD int16 general", B.ADD, [t(I16), t(I16)], [t(I16)], opts("AddOptions", potScaleInt16=False), 3),
    ("SUB int16 general", B.SUB, [t(I16), t(I16)], [t(I16)], opts("SubOptions", potScaleInt16=False), 5),
    ("MUL int8", B.MUL, [t(I8, q=qp(0.1)), t(I8, q=qp(0.1))], [t(I8, q=qp(0.5))], None, 2),
    ("MUL int8 rescale >= 1", B.MUL, [t(I8, q=qp(1.0)), t(I8, q=qp(1.0))], [t(I8, q=qp(0.5))], None, 3),
    ("MUL int16", B.MUL, [t(I16), t(I16)], [t(I16)], None, 4),
    ("SOFTMAX int16", B.SOFTMAX, [t(I16)], [t(I16)], None, 3),
    ("MEAN int8", B.MEAN, [t(I8), t(I32)], [t(I8)], None, 2),
    ("LOGISTIC int16", B.LOGISTIC, [t(I16)], [t(I16)], None, 3),
    ("QUANTIZE float->int16", B.QUANTIZE, [t(F32)], [t(I16)], None, 2),
    ("DEQUANTIZE int8", B.DEQUANTIZE, [t(I8)], [t(F32)], None, 2),
    ("DEQUANTIZE fp16", B.DEQUANTIZE, [t(np.float16)], [t(F32)], None, 3),
    ("TRANSPOSE int16", B.TRANSPOSE, [t(I16), t(I32)], [t(I16)], None, 5),
    ("BATCH_MATMUL int8", B.BATCH_MATMUL, [t(I8), t(I8)], [t(I8)], None, 2),
    ("GATHER int8", B.GATHER, [t(I8), t(I32)], [t(I8)], None, 2),
    ("GATHER int16 data", B.GATHER, [t(I16), t(I64)], [t(I16)], None, 4),
    ("SPLIT int8 (data is input 1)", B.SPLIT, [t(I32), t(I8)], [t(I8)], None, 2),
    ("GELU int8", B.GELU, [t(I8)], [t(I8)], None, 2),
    ("BROADCAST_TO float", B.BROADCAST_TO, [t(F32), t(I32)], [t(F32)], None, 2),
    ("PAD 5-D", B.PAD, [t(I8, shape=(1, 2, 3, 4, 5)), t(I32)], [t(I8)], None, 4),
]


@pytest.mark.parametrize("label,builtin,ins,outs,options,want", CASES, ids=[c[0] for c in CASES])
def test_op_version(label, builtin, ins, outs, options, want):
    assert op_version(builtin, ins, outs, options) == want


def test_min_runtime_version_is_the_highest():
    assert min_runtime_version({B.CONV_2D: 3, B.DEPTHWISE_CONV_2D: 3}) == "1.14.0"
    assert min_runtime_version({B.CONV_2D: 3, B.GELU: 2}) == "2.9.0"
    assert min_runtime_version({B.ADD: 3, B.MUL: 2}) == "2.4.0"
    assert min_runtime_version({}) == ""
