"""Hand-built quantized graphs (docs/quantization.md contract) for the QNN tests: float
inputs with a boundary Quantize, int8 activations with explicit params, int8 symmetric
weights (per channel, or per tensor for FullyConnected as HTP needs), int32 bias with
scale ``s_in · s_w``, Dequantize at the output."""

from __future__ import annotations

import numpy as np

from edgeq.sdk import Graph, Node, QDType, QuantParams, Tensor


def qp(scale: float, zero_point: int = 0, dtype: str = "int8") -> QuantParams:
    return QuantParams(np.array([scale], np.float32), np.array([zero_point]), QDType(dtype))


class QGraph:
    def __init__(self, seed: int = 0) -> None:
        self.g = Graph("qnn_test")
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def act(self, shape, q: QuantParams) -> str:
        name = self._name("t")
        self.g.tensors[name] = Tensor(name, q.dtype.numpy, tuple(shape), None, q)
        return name

    def const(self, data, q=None, base="c") -> str:
        name = self._name(base)
        data = np.asarray(data)
        self.g.tensors[name] = Tensor(name, data.dtype, data.shape, data, q)
        return name

    def weight(self, shape, *, per_channel: bool, scale: float = 0.3) -> str:
        w = self.rng.normal(0, scale, shape).astype(np.float32)
        if per_channel:
            s = np.abs(w).reshape(shape[0], -1).max(axis=1) / 127.0
            q = QuantParams(s, np.zeros(s.size, np.int64), QDType.INT8, 0)
            data = np.round(w / s.reshape([-1] + [1] * (w.ndim - 1)))
        else:
            s = np.array([np.abs(w).max() / 127.0], np.float32)
            q = QuantParams(s, np.zeros(1, np.int64), QDType.INT8)
            data = np.round(w / s[0])
        return self.const(np.clip(data, -127, 127).astype(np.int8), q, "w")

    def bias(self, n: int, x: str, w: str) -> str:
        s_in = np.float64(self.g.tensors[x].quant.scale[0])
        wq = self.g.tensors[w].quant
        scale = np.broadcast_to(s_in * wq.scale.astype(np.float64), (n,)).astype(np.float32)
        q = QuantParams(scale, np.zeros(n, np.int64), QDType.INT32, 0)
        b = self.rng.normal(0, 0.5, n)
        return self.const(np.round(b / scale).astype(np.int32), q, "b")

    def op(self, op: str, inputs, shape, q: QuantParams, **attrs) -> str:
        out = self.act(shape, q)
        self.g.nodes.append(Node(self._name(op.lower()), op, list(inputs), [out], attrs))
        return out

    def input(self, shape, q: QuantParams, name: str = "x") -> str:
        self.g.tensors[name] = Tensor(name, np.float32, tuple(shape))
        self.g.inputs.append(name)
        return self.op("Quantize", [name], shape, q)

    def output(self, x: str, name: str = "y") -> Graph:
        t = self.g.tensors[x]
        self.g.tensors[name] = Tensor(name, np.float32, t.shape)
        self.g.nodes.append(Node(self._name("dequantize"), "Dequantize", [x], [name]))
        self.g.outputs.append(name)
        self.g.toposort()
        return self.g

    def feed(self, seed: int = 1) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {n: rng.uniform(-1, 1, self.g.tensors[n].shape).astype(np.float32) for n in self.g.inputs}


def single_op_graph(op: str) -> QGraph:
    """One quantized op between a boundary Quantize and Dequantize."""
    b = QGraph()
    flat = op in ("fc", "softmax")
    x = b.input((1, 64) if flat else (1, 8, 16, 16), qp(2 / 255, -1))
    if op in ("conv", "conv_relu6_clamped"):
        w = b.weight((16, 8, 3, 3), per_channel=True)
        attrs = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], group=1)
        if op == "conv_relu6_clamped":  # output range [-6.5, 6.25]: the clamp is not implied
            attrs.update(act_min=0.0, act_max=6.0)
        y = b.op("Conv", [x, w, b.bias(16, x, w)], (1, 16, 16, 16), qp(0.05, 3), **attrs)
    elif op == "depthwise":
        w = b.weight((8, 1, 3, 3), per_channel=True)
        y = b.op("Conv", [x, w, b.bias(8, x, w)], (1, 8, 16, 16), qp(0.03, -5), kernel_shape=[3, 3],
                 pads=[1, 1, 1, 1], strides=[1, 1], group=8)
    elif op in ("add", "mul"):
        x2 = b.input((1, 8, 16, 16), qp(1.5 / 255, 10), name="x2")
        y = b.op(op.capitalize(), [x, x2], (1, 8, 16, 16), qp(3.2 / 255, 0) if op == "add" else qp(1.2 / 255, -20))
    elif op == "fc":
        w = b.weight((32, 64), per_channel=False, scale=0.2)
        y = b.op("FullyConnected", [x, w, b.bias(32, x, w)], (1, 32), qp(0.1, 2))
    elif op == "global_average_pool":
        y = b.op("GlobalAveragePool", [x], (1, 8, 1, 1), qp(1 / 255, 0))
    elif op == "sigmoid":
        y = b.op("Sigmoid", [x], (1, 8, 16, 16), qp(1 / 256, -128))
    elif op == "tanh":
        y = b.op("Tanh", [x], (1, 8, 16, 16), qp(1 / 128, 0))
    elif op == "softmax":
        y = b.op("Softmax", [x], (1, 64), qp(1 / 256, -128), axis=-1)
    elif op == "hard_swish":
        y = b.op("HardSwish", [x], (1, 8, 16, 16), qp(1.4 / 255, -90))
    elif op == "max_pool":
        y = b.op("MaxPool", [x], (1, 8, 8, 8), qp(2 / 255, -1), kernel_shape=[2, 2], strides=[2, 2])
    else:
        raise KeyError(op)
    b.output(y)
    return b
