"""Small float graphs (NCHW, canonical edgeq IR) used by the TFLite tests: a CNN with
the MobileNet building blocks and a transformer encoder block with LayerNorm written as
the quantizer's decomposition (ReduceMean / SquaredDifference / Rsqrt / Mul / Add)."""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor


class FloatGraph:
    def __init__(self, name: str, seed: int = 0) -> None:
        self.g = Graph(name)
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def t(self, shape, base="t") -> str:
        self.n += 1
        name = f"{base}{self.n}"
        self.g.tensors[name] = Tensor(name, np.float32, tuple(shape))
        return name

    def c(self, data, base="c") -> str:
        self.n += 1
        data = np.asarray(data)
        name = f"{base}{self.n}"
        self.g.tensors[name] = Tensor(name, data.dtype, data.shape, data)
        return name

    def w(self, *shape, scale=0.3) -> str:
        return self.c(self.rng.normal(0, scale, shape).astype(np.float32), "w")

    def op(self, op, inputs, shape, **attrs) -> str:
        out = self.t(shape)
        self.g.nodes.append(Node(f"{op.lower()}{self.n}", op, list(inputs), [out], attrs))
        return out

    def input(self, name, shape) -> str:
        self.g.tensors[name] = Tensor(name, np.float32, tuple(shape))
        self.g.inputs.append(name)
        return name

    def output(self, x) -> Graph:
        self.g.outputs.append(x)
        self.g.toposort()
        return self.g


def small_cnn(size: int = 32) -> Graph:
    """conv s2 + ReLU6 -> depthwise + ReLU6 -> 1x1 -> residual add -> max pool -> conv +
    ReLU -> global average pool -> flatten -> fully connected -> softmax."""
    f = FloatGraph("small_cnn")
    x = f.input("image", (1, 3, size, size))
    h = size // 2
    c1 = f.op("Conv", [x, f.w(8, 3, 3, 3), f.c(np.full(8, 0.1, np.float32))], (1, 8, h, h),
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], group=1, act_min=0.0, act_max=6.0)
    c2 = f.op("Conv", [c1, f.w(8, 1, 3, 3), f.c(np.zeros(8, np.float32))], (1, 8, h, h),
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8, act_min=0.0, act_max=6.0)
    c3 = f.op("Conv", [c2, f.w(8, 8, 1, 1), f.c(np.zeros(8, np.float32))], (1, 8, h, h),
              kernel_shape=[1, 1], group=1)
    a = f.op("Add", [c3, c1], (1, 8, h, h))
    p = f.op("MaxPool", [a], (1, 8, h // 2, h // 2), kernel_shape=[2, 2], strides=[2, 2])
    c4 = f.op("Conv", [p, f.w(16, 8, 3, 3), f.c(np.zeros(16, np.float32))], (1, 16, h // 2, h // 2),
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=1, act_min=0.0)
    gap = f.op("GlobalAveragePool", [c4], (1, 16, 1, 1))
    flat = f.op("Flatten", [gap], (1, 16), axis=1)
    fc = f.op("FullyConnected", [flat, f.w(10, 16), f.c(np.zeros(10, np.float32))], (1, 10))
    return f.output(f.op("Softmax", [fc], (1, 10), axis=-1))


def _layer_norm(f: FloatGraph, x, shape, eps=1e-5):
    ax = f.c(np.array([-1], np.int64))
    red = (*shape[:-1], 1)
    mean = f.op("ReduceMean", [x, ax], red, keepdims=1)
    sq = f.op("SquaredDifference", [x, mean], shape)
    var = f.op("ReduceMean", [sq, ax], red, keepdims=1)
    ve = f.op("Add", [var, f.c(np.array([eps], np.float32))], red)
    inv = f.op("Rsqrt", [ve], red)
    cen = f.op("Sub", [x, mean], shape)
    norm = f.op("Mul", [cen, inv], shape)
    g = f.op("Mul", [norm, f.c(f.rng.uniform(0.8, 1.2, shape[-1]).astype(np.float32))], shape)
    return f.op("Add", [g, f.c(f.rng.normal(0, 0.1, shape[-1]).astype(np.float32))], shape)


def transformer_block(seq: int = 8, dim: int = 32, heads: int = 2) -> Graph:
    """Pre-LN encoder block: LN -> Q/K/V -> softmax(QK^T/sqrt(d)) V -> out proj ->
    residual -> LN -> FC + GELU -> FC -> residual."""
    f = FloatGraph("transformer_block")
    x = f.input("tokens", (1, seq, dim))
    d = dim // heads
    ln = _layer_norm(f, x, (1, seq, dim))

    def proj(inp, out_dim, scale=0.2):
        return f.op("FullyConnected", [inp, f.w(out_dim, dim, scale=scale),
                                       f.c(f.rng.normal(0, 0.05, out_dim).astype(np.float32))], (1, seq, out_dim))

    def heads_of(t):
        r = f.op("Reshape", [t, f.c(np.array([1, seq, heads, d], np.int64))], (1, seq, heads, d))
        return f.op("Transpose", [r], (1, heads, seq, d), perm=[0, 2, 1, 3])

    q, k, v = heads_of(proj(ln, dim)), heads_of(proj(ln, dim)), heads_of(proj(ln, dim))
    kt = f.op("Transpose", [k], (1, heads, d, seq), perm=[0, 1, 3, 2])
    s = f.op("MatMul", [q, kt], (1, heads, seq, seq))
    s = f.op("Mul", [s, f.c(np.array([1 / np.sqrt(d)], np.float32))], (1, heads, seq, seq))
    p = f.op("Softmax", [s], (1, heads, seq, seq), axis=-1)
    o = f.op("MatMul", [p, v], (1, heads, seq, d))
    o = f.op("Transpose", [o], (1, seq, heads, d), perm=[0, 2, 1, 3])
    o = f.op("Reshape", [o, f.c(np.array([1, seq, dim], np.int64))], (1, seq, dim))
    h = f.op("Add", [x, proj(o, dim)], (1, seq, dim))
    ln2 = _layer_norm(f, h, (1, seq, dim))
    up = f.op("FullyConnected", [ln2, f.w(2 * dim, dim, scale=0.2),
                                 f.c(np.zeros(2 * dim, np.float32))], (1, seq, 2 * dim))
    act = f.op("Gelu", [up], (1, seq, 2 * dim), approximate="none")
    down = f.op("FullyConnected", [act, f.w(dim, 2 * dim, scale=0.15),
                                   f.c(np.zeros(dim, np.float32))], (1, seq, dim))
    return f.output(f.op("Add", [h, down], (1, seq, dim)))
