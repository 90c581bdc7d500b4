"""The conformance cases: one small hand-built quantized graph per op (int8, and 16x8
where integer kernels have it), run by tests/conformance against the float interpreter
and the integer simulator, and against every installed target's artifacts
(:mod:`edgeq.testing.conformance`).

Each case function returns ``(QGraph builder, (lo, hi))``: the graph and the range of
the uniform random float inputs. Scales and zero points are part of the test data.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Tensor
from edgeq.testing.qgraph import QGraph, qp

I16 = "int16"


def _case(fn):
    CASES[fn.__name__] = fn
    return fn


CASES: dict = {}

# -- helpers -------------------------------------------------------------------------------


def _unary(op, shape=(1, 4, 6, 6), q_in=qp(0.05, 3), q_out=qp(0.05, 3), lo=-5.0, hi=5.0,
           dtype="int8", **attrs):
    b = QGraph(op)
    if dtype == I16:
        q_in, q_out = qp(q_in.scale[0] / 200, 0, I16), qp(q_out.scale[0] / 200, 0, I16)
    x = b.input(shape, q_in)
    y = b.op(op, [x], shape, q_out, **attrs)
    b.output(y)
    return b, (lo, hi)


def _conv(shape, w_shape, out_shape, dtype="int8", **attrs):
    b = QGraph("conv")
    q_in, q_out = (qp(1 / 64, 0, I16), qp(0.004, 0, I16)) if dtype == I16 else (qp(1 / 64, -10), qp(0.08, 5))
    x = b.input(shape, q_in)
    w = b.random_weight(w_shape)
    bias = b.bias(b.rng.normal(0, 0.2, w_shape[0]), x, w, np.int64 if dtype == I16 else np.int32)
    b.output(b.op("Conv", [x, w, bias], out_shape, q_out, kernel_shape=list(w_shape[2:]), **attrs))
    return b, (-1.5, 1.5)


def _binary(op, a_shape, b_shape, out_shape, dtype="int8", q_out=None, **attrs):
    b = QGraph(op)
    if dtype == I16:
        qa, qb, qo = qp(0.0002, 0, I16), qp(0.00013, 0, I16), q_out or qp(0.0003, 0, I16)
    else:
        qa, qb, qo = qp(0.03, -5), qp(0.02, 7), q_out or qp(0.05, 2)
    x = b.input(a_shape, qa, "a")
    y = b.input(b_shape, qb, "b")
    b.output(b.op(op, [x, y], out_shape, qo, **attrs))
    return b, (-3.0, 3.0)


# -- cases -----------------------------------------------------------------------------


@_case
def quantize_requant_int8():
    b = QGraph()
    x = b.input((1, 32), qp(0.02, 4))
    b.output(b.op("Quantize", [x], (1, 32), qp(0.031, -7)))
    return b, (-2.0, 2.0)


@_case
def quantize_int8_to_int16():
    b = QGraph()
    x = b.input((1, 32), qp(0.02, 4))
    b.output(b.op("Quantize", [x], (1, 32), qp(0.0001, 0, I16)))
    return b, (-2.0, 2.0)


@_case
def quantize_int16_to_int8():
    b = QGraph()
    x = b.input((1, 32), qp(0.0001, 0, I16))
    b.output(b.op("Quantize", [x], (1, 32), qp(0.02, 4)))
    return b, (-2.0, 2.0)


@_case
def conv_same_relu6():
    return _conv((1, 3, 9, 9), (6, 3, 3, 3), (1, 6, 9, 9), pads=[1, 1, 1, 1], group=1,
                 act_min=0.0, act_max=6.0)


@_case
def conv_stride2_explicit_pad():
    return _conv((1, 3, 10, 10), (5, 3, 3, 3), (1, 5, 5, 5), pads=[1, 1, 1, 1], strides=[2, 2], group=1)


@_case
def conv_valid_dilated():
    return _conv((1, 2, 9, 9), (4, 2, 3, 3), (1, 4, 5, 5), dilations=[2, 2], group=1)


@_case
def conv_grouped():
    return _conv((1, 4, 6, 6), (6, 2, 3, 3), (1, 6, 6, 6), pads=[1, 1, 1, 1], group=2)


@_case
def conv_1d():
    return _conv((1, 4, 12), (6, 4, 3), (1, 6, 12), pads=[1, 1], group=1, act_min=0.0)


@_case
def conv_16x8():
    return _conv((1, 3, 7, 7), (4, 3, 3, 3), (1, 4, 7, 7), dtype=I16, pads=[1, 1, 1, 1], group=1)


@_case
def depthwise():
    return _conv((1, 4, 8, 8), (4, 1, 3, 3), (1, 4, 8, 8), pads=[1, 1, 1, 1], group=4,
                 act_min=0.0, act_max=6.0)


@_case
def depthwise_multiplier2_stride2():
    return _conv((1, 3, 9, 9), (6, 1, 3, 3), (1, 6, 5, 5), pads=[1, 1, 1, 1], strides=[2, 2], group=3)


@_case
def depthwise_16x8():
    return _conv((1, 4, 6, 6), (4, 1, 3, 3), (1, 4, 6, 6), dtype=I16, pads=[1, 1, 1, 1], group=4)


def _fc(x_shape, out_features, dtype="int8", **attrs):
    b = QGraph("fc")
    q_in, q_out = (qp(1 / 64, 0, I16), qp(0.002, 0, I16)) if dtype == I16 else (qp(1 / 64, 3), qp(0.06, -4))
    x = b.input(x_shape, q_in)
    w = b.random_weight((out_features, x_shape[-1]))
    bias = b.bias(b.rng.normal(0, 0.2, out_features), x, w, np.int64 if dtype == I16 else np.int32)
    b.output(b.op("FullyConnected", [x, w, bias], (*x_shape[:-1], out_features), q_out, **attrs))
    return b, (-1.5, 1.5)


@_case
def fully_connected():
    return _fc((2, 16), 8, act_min=0.0)


@_case
def fully_connected_3d():
    return _fc((1, 5, 12), 7)


@_case
def fully_connected_16x8():
    return _fc((3, 16), 6, dtype=I16)


@_case
def matmul():
    b = QGraph("matmul")
    x = b.input((1, 2, 5, 8), qp(0.03, -3), "a")
    y = b.input((1, 2, 8, 4), qp(0.02, 5), "b")
    b.output(b.op("MatMul", [x, y], (1, 2, 5, 4), qp(0.1, 1)))
    return b, (-2.0, 2.0)


@_case
def matmul_16x8():
    b = QGraph("matmul")
    x = b.input((2, 5, 8), qp(0.0001, 0, I16), "a")
    y = b.input((2, 8, 4), qp(0.00012, 0, I16), "b")
    b.output(b.op("MatMul", [x, y], (2, 5, 4), qp(0.0005, 0, I16)))
    return b, (-2.0, 2.0)


@_case
def add_broadcast_relu():
    return _binary("Add", (1, 4, 5, 5), (1, 4, 1, 1), (1, 4, 5, 5), act_min=0.0)


@_case
def add_16x8():
    return _binary("Add", (1, 3, 4, 4), (1, 3, 4, 4), (1, 3, 4, 4), dtype=I16)


@_case
def sub():
    return _binary("Sub", (2, 3, 4), (2, 3, 4), (2, 3, 4))


@_case
def sub_16x8():
    return _binary("Sub", (2, 3, 4), (1, 1, 4), (2, 3, 4), dtype=I16)


@_case
def mul():
    return _binary("Mul", (2, 6, 5), (2, 6, 5), (2, 6, 5), q_out=qp(0.08, -3))


@_case
def mul_16x8():
    return _binary("Mul", (2, 6, 5), (1, 6, 1), (2, 6, 5), dtype=I16, q_out=qp(0.0003, 0, I16))


@_case
def squared_difference():
    return _binary("SquaredDifference", (1, 8, 6), (1, 1, 6), (1, 8, 6), q_out=qp(0.15, -128))


@_case
def max_same_scale():
    b = QGraph("max")
    x = b.input((2, 12), qp(0.03, 1), "a")
    y = b.input((2, 12), qp(0.03, 1), "b")
    b.output(b.op("Max", [x, y], (2, 12), qp(0.03, 1)))
    return b, (-3.0, 3.0)


@_case
def min_same_scale():
    b = QGraph("min")
    x = b.input((2, 12), qp(0.03, 1), "a")
    y = b.input((2, 12), qp(0.03, 1), "b")
    b.output(b.op("Min", [x, y], (2, 12), qp(0.03, 1)))
    return b, (-3.0, 3.0)


def _pool(op, shape, out_shape, dtype="int8", **attrs):
    b = QGraph(op)
    q = qp(0.0003, 0, I16) if dtype == I16 else qp(0.04, -2)
    x = b.input(shape, q)
    b.output(b.op(op, [x], out_shape, q, **attrs))
    return b, (-4.0, 4.0)


@_case
def average_pool_same():
    return _pool("AveragePool", (1, 3, 7, 7), (1, 3, 4, 4), kernel_shape=[3, 3], strides=[2, 2],
                 pads=[1, 1, 1, 1])


@_case
def average_pool_count_include_pad():
    return _pool("AveragePool", (1, 3, 6, 6), (1, 3, 6, 6), kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                 count_include_pad=1)


@_case
def average_pool_16x8():
    return _pool("AveragePool", (1, 2, 6, 6), (1, 2, 3, 3), dtype=I16, kernel_shape=[2, 2], strides=[2, 2])


@_case
def max_pool_explicit_pad():
    return _pool("MaxPool", (1, 3, 8, 8), (1, 3, 4, 4), kernel_shape=[3, 3], strides=[2, 2],
                 pads=[1, 1, 1, 1])


@_case
def max_pool_16x8():
    return _pool("MaxPool", (1, 2, 6, 6), (1, 2, 3, 3), dtype=I16, kernel_shape=[2, 2], strides=[2, 2])


@_case
def global_average_pool():
    b = QGraph("gap")
    x = b.input((1, 6, 5, 5), qp(0.04, -2))
    b.output(b.op("GlobalAveragePool", [x], (1, 6, 1, 1), qp(0.02, 3)))
    return b, (-3.0, 3.0)


@_case
def reduce_mean_last_axis():
    b = QGraph("mean")
    x = b.input((2, 5, 16), qp(0.04, -2))
    axes = b.const(np.array([-1], np.int64))
    b.output(b.op("ReduceMean", [x, axes], (2, 5, 1), qp(0.015, 1), keepdims=1))
    return b, (-3.0, 3.0)


@_case
def reduce_mean_16x8():
    b = QGraph("mean")
    x = b.input((2, 5, 16), qp(0.0002, 0, I16))
    axes = b.const(np.array([2], np.int64))
    b.output(b.op("ReduceMean", [x, axes], (2, 5, 1), qp(0.0001, 0, I16), keepdims=1))
    return b, (-3.0, 3.0)


@_case
def softmax():
    return _unary("Softmax", (2, 3, 10), q_in=qp(0.06, 4), q_out=qp(1 / 256, -128), axis=-1)


@_case
def softmax_16x8():
    b = QGraph("softmax")
    x = b.input((2, 10), qp(0.0003, 0, I16))
    b.output(b.op("Softmax", [x], (2, 10), qp(1 / 32768, 0, I16), axis=-1))
    return b, (-5.0, 5.0)


@_case
def sigmoid():
    return _unary("Sigmoid", q_in=qp(0.05, 3), q_out=qp(1 / 256, -128))


@_case
def sigmoid_16x8():
    b = QGraph("sigmoid")
    x = b.input((1, 64), qp(0.0003, 0, I16))
    b.output(b.op("Sigmoid", [x], (1, 64), qp(1 / 32768, 0, I16)))
    return b, (-8.0, 8.0)


@_case
def tanh():
    return _unary("Tanh", q_in=qp(0.03, -3), q_out=qp(1 / 128, 0), lo=-3, hi=3)


@_case
def tanh_16x8():
    b = QGraph("tanh")
    x = b.input((1, 64), qp(0.0001, 0, I16))
    b.output(b.op("Tanh", [x], (1, 64), qp(1 / 32768, 0, I16)))
    return b, (-3.0, 3.0)


@_case
def mish():
    # no TFLite builtin: an int8 table (QUANTIZE to uint8, CAST, GATHER on TFLite)
    return _unary("Mish", q_in=qp(0.05, 3), q_out=qp(0.04, -100), lo=-6, hi=6)


@_case
def softplus():
    return _unary("Softplus", q_in=qp(0.05, -3), q_out=qp(0.03, -128), lo=-6, hi=6)


@_case
def hard_swish():
    return _unary("HardSwish", q_in=qp(0.05, 3), q_out=qp(0.04, -30))


@_case
def gelu():
    return _unary("Gelu", (2, 24), q_in=qp(0.04, 5), q_out=qp(0.035, -20), lo=-4, hi=4)


@_case
def gelu_tanh():
    return _unary("Gelu", (2, 24), q_in=qp(0.04, 5), q_out=qp(0.035, -20), lo=-4, hi=4,
                  approximate="tanh")


@_case
def rsqrt():
    b = QGraph("rsqrt")
    x = b.input((2, 8), qp(0.02, -128))
    b.output(b.op("Rsqrt", [x], (2, 8), qp(0.05, -128)))
    return b, (0.05, 5.0)


@_case
def rsqrt_16x8():
    b = QGraph("rsqrt")
    x = b.input((2, 8), qp(0.0002, 0, I16))
    b.output(b.op("Rsqrt", [x], (2, 8), qp(0.0003, 0, I16)))
    return b, (0.05, 5.0)


@_case
def relu():
    return _unary("Relu", q_in=qp(0.05, 3), q_out=qp(0.03, -128))


@_case
def relu_16x8():
    return _unary("Relu", dtype=I16)


@_case
def clip_relu6():
    b = QGraph("clip")
    x = b.input((1, 40), qp(0.05, 3))
    lo, hi = b.const(np.array(0.0, np.float32)), b.const(np.array(6.0, np.float32))
    b.output(b.op("Clip", [x, lo, hi], (1, 40), qp(6 / 255, -128)))
    return b, (-4.0, 8.0)


@_case
def clip_general_same_scale():
    b = QGraph("clip")
    x = b.input((1, 40), qp(0.05, 3))
    lo, hi = b.const(np.array(-0.5, np.float32)), b.const(np.array(2.0, np.float32))
    b.output(b.op("Clip", [x, lo, hi], (1, 40), qp(0.05, 3)))
    return b, (-4.0, 4.0)


@_case
def leaky_relu():
    return _unary("LeakyRelu", q_in=qp(0.05, 3), q_out=qp(0.04, -20), alpha=0.1)


@_case
def max_pool_same_16x8():
    return _pool("MaxPool", (1, 2, 5, 5), (1, 2, 3, 3), dtype=I16, kernel_shape=[3, 3], strides=[2, 2],
                 pads=[1, 1, 1, 1])


@_case
def quantize_int16_requant():
    b = QGraph()
    x = b.input((1, 32), qp(0.0001, 0, I16))
    b.output(b.op("Quantize", [x], (1, 32), qp(0.00013, 0, I16)))
    return b, (-2.0, 2.0)


@_case
def leaky_relu_16x8():
    return _unary("LeakyRelu", dtype=I16, alpha=0.2)


@_case
def max_16x8():
    b = QGraph("max")
    q = qp(0.0002, 0, I16)
    x = b.input((2, 12), q, "a")
    y = b.input((2, 12), q, "b")
    b.output(b.op("Max", [x, y], (2, 12), q))
    return b, (-3.0, 3.0)


@_case
def relu6_fused_into_add():
    return _binary("Add", (1, 4, 5, 5), (1, 4, 5, 5), (1, 4, 5, 5), q_out=qp(6 / 255, -128),
                   act_min=0.0, act_max=6.0)


@_case
def clamp_not_fusable():
    # a Clip(-1, 2) fused into a Conv: emitted as CONV_2D + MAXIMUM/MINIMUM
    return _conv((1, 3, 6, 6), (4, 3, 3, 3), (1, 4, 6, 6), pads=[1, 1, 1, 1], group=1,
                 act_min=-1.0, act_max=2.0)


@_case
def gelu_16x8():
    b = QGraph("gelu")
    x = b.input((2, 24), qp(0.00015, 0, I16))
    b.output(b.op("Gelu", [x], (2, 24), qp(0.00013, 0, I16)))
    return b, (-4.0, 4.0)


@_case
def argmax():
    b = QGraph("argmax")
    x = b.input((3, 10), qp(0.04, -3))
    b.g.tensors["idx"] = Tensor("idx", np.int64, (3, 1))
    b.node("ArgMax", [x], ["idx"], axis=1, keepdims=1)
    b.int_output("idx")
    return b, (-4.0, 4.0)


@_case
def integer_lstm():
    """The fused integer LSTM (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, 8x8_16): per-tensor
    int8 gate weights, int32 biases at ``s_x · s_w``, an int8 hidden state at the
    output's parameters and an int16 cell state at ``2^-11``."""
    b = QGraph("integer_lstm")
    steps, batch, n_in, hidden = 6, 1, 10, 8
    q_x, q_h, q_c = qp(1 / 64, 5), qp(1 / 128, -3), qp(2.0 ** -11, 0, I16)
    x = b.input((steps, batch, n_in), q_x)
    h0 = b.input((batch, hidden), q_h, "h0")
    c0 = b.input((batch, hidden), q_c, "c0")
    ws = [b.weight(b.rng.normal(0, 0.4, (hidden, n_in)).astype(np.float32), axis=None)
          for _ in range(4)]
    rs = [b.weight(b.rng.normal(0, 0.4, (hidden, hidden)).astype(np.float32), axis=None)
          for _ in range(4)]
    biases = [b.bias(b.rng.normal(0, 0.3, hidden), x, w) for w in ws]
    y, y_h, y_c = b.act((steps, 1, batch, hidden), q_h), b.act((1, batch, hidden), q_h), \
        b.act((1, batch, hidden), q_c)
    b.node("IntegerLSTM", [x, h0, c0, *ws, *rs, *biases], [y, y_h, y_c], cell_scale_log2=-11)
    b.output(y, "y")
    b.output(y_h, "y_h")
    b.output(y_c, "y_c")
    return b, (-1.5, 1.5)


from edgeq.testing.cases_detectors import DETECTOR_CASES  # noqa: E402
from edgeq.testing.cases_movement import MOVEMENT_CASES  # noqa: E402

CASES.update(DETECTOR_CASES)
CASES.update(MOVEMENT_CASES)
