"""Hand-built quantized graphs (docs/quantization.md contract) for the tests of every target.

:class:`QGraph` writes a QuantizedGraph node by node: float graph inputs with a boundary
Quantize, int8 activations with explicit QuantParams, int8 symmetric per-channel
weights, int32 (or int64 for 16x8) bias with scale ``s_in · s_w[c]``, and Dequantize
at the outputs. Scales are chosen by the caller (they are test data), so every case
states the quantization it exercises.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.types import QDType, QuantParams


def qp(scale: float, zero_point: int = 0, dtype: str = "int8") -> QuantParams:
    return QuantParams(np.array([scale], np.float32), np.array([zero_point]), QDType(dtype))


class QGraph:
    """Incremental builder of a quantized edgeq Graph."""

    def __init__(self, name: str = "g", seed: int = 0) -> None:
        self.g = Graph(name)
        self.rng = np.random.default_rng(seed)
        self._n = 0

    def _name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    # -- tensors -----------------------------------------------------------------
    def act(self, shape, q: QuantParams, base: str = "t") -> str:
        name = self._name(base)
        self.g.tensors[name] = Tensor(name, q.dtype.numpy, tuple(shape), None, q)
        return name

    def float_tensor(self, shape, base: str = "f") -> str:
        name = self._name(base)
        self.g.tensors[name] = Tensor(name, np.float32, tuple(shape))
        return name

    def const(self, data: np.ndarray, q: QuantParams | None = None, base: str = "c") -> str:
        name = self._name(base)
        data = np.asarray(data)
        self.g.tensors[name] = Tensor(name, data.dtype, data.shape, data, q)
        return name

    def weight(self, w: np.ndarray, axis: int = 0, base: str = "w") -> str:
        """int8 symmetric per-channel weights along ``axis`` ([-127, 127])."""
        w = np.asarray(w, np.float32)
        red = tuple(i for i in range(w.ndim) if i != axis)
        scale = np.maximum(np.abs(w).max(axis=red), 1e-8) / 127.0
        q = QuantParams(scale.astype(np.float32), np.zeros(scale.size, np.int64), QDType.INT8, axis)
        data = np.clip(np.round(w / scale.reshape([-1 if i == axis else 1 for i in range(w.ndim)])),
                       -127, 127).astype(np.int8)
        return self.const(data, q, base)

    def bias(self, b: np.ndarray, x: str, w: str, dtype=np.int32, base: str = "b") -> str:
        s_in = np.float64(self.g.tensors[x].quant.scale[0])
        s_w = self.g.tensors[w].quant.scale.astype(np.float64)
        scale = (s_in * s_w).astype(np.float32)
        q = QuantParams(scale, np.zeros(scale.size, np.int64), QDType.INT32, 0)
        data = np.round(np.asarray(b, np.float64) / scale).astype(dtype)
        return self.const(data, q, base)

    def random_weight(self, shape, axis: int = 0, scale: float = 0.3) -> str:
        return self.weight(self.rng.normal(0, scale, shape).astype(np.float32), axis)

    # -- nodes -------------------------------------------------------------------
    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> list[str]:
        self.g.nodes.append(Node(self._name(op.lower()), op, list(inputs), list(outputs), attrs))
        return outputs

    def op(self, op: str, inputs: list[str], shape, q: QuantParams | None, **attrs) -> str:
        out = self.act(shape, q) if q is not None else self.float_tensor(shape)
        self.node(op, inputs, [out], **attrs)
        return out

    def input(self, shape, q: QuantParams, name: str = "x") -> str:
        """A float graph input and its boundary Quantize; returns the integer tensor."""
        self.g.tensors[name] = Tensor(name, np.float32, tuple(shape))
        self.g.inputs.append(name)
        return self.op("Quantize", [name], shape, q)

    def int_input(self, shape, q: QuantParams, name: str = "x") -> str:
        self.g.tensors[name] = Tensor(name, q.dtype.numpy, tuple(shape), None, q)
        self.g.inputs.append(name)
        return name

    def output(self, x: str, name: str = "y") -> str:
        """A Dequantize to float graph output ``name``."""
        t = self.g.tensors[x]
        self.g.tensors[name] = Tensor(name, np.float32, t.shape)
        self.node("Dequantize", [x], [name])
        self.g.outputs.append(name)
        return name

    def int_output(self, x: str) -> str:
        self.g.outputs.append(x)
        return x

    def build(self) -> Graph:
        self.g.toposort()
        return self.g

    def feed(self, scale: float = 1.0, seed: int = 1) -> dict[str, np.ndarray]:
        """Random float feeds for every graph input (uniform in [-scale, scale])."""
        rng = np.random.default_rng(seed)
        out = {}
        for n in self.g.inputs:
            t = self.g.tensors[n]
            if t.dtype.kind == "f":
                out[n] = rng.uniform(-scale, scale, t.shape).astype(np.float32)
            else:
                out[n] = rng.integers(np.iinfo(t.dtype).min, np.iinfo(t.dtype).max + 1,
                                      t.shape).astype(t.dtype)
        return out


# -- a small min/max quantizer for test graphs ----------------------------------------------

FIXED_OUT = {"Softmax": (1 / 256, -128), "Sigmoid": (1 / 256, -128), "Tanh": (1 / 128, 0)}
SAME_SCALE = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "MaxPool",
              "AveragePool", "Pad", "Slice", "Gather", "Split", "Max", "Min"}
WEIGHTED = {"Conv", "FullyConnected"}


def _minmax_q(lo: float, hi: float) -> QuantParams:
    """int8 asymmetric params whose range contains [lo, hi] and 0 exactly."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = max(hi - lo, 1e-6) / 255.0
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return qp(scale, zp)


def quantize_float_graph(graph: Graph, feeds: list[dict[str, np.ndarray]]) -> Graph:
    """Quantize a float graph by min/max over ``feeds``: int8 activations, per-channel
    int8 weights for Conv/FullyConnected, int32 bias, fixed/same-scale rules of
    docs/quantization.md, Quantize/Dequantize at the boundary. Test data only."""
    from edgeq.interp.float_interp import run_graph
    from edgeq.quantize.rewrites.prepare import executable

    names = [t for t in graph.tensors if not graph.is_constant(t)]
    ranges: dict[str, tuple[float, float]] = {}
    for feed in feeds:
        vals = run_graph(executable(graph), feed, outputs=names)
        for n, v in vals.items():
            if np.asarray(v).dtype.kind != "f":
                continue
            lo, hi = float(np.min(v)), float(np.max(v))
            a, b = ranges.get(n, (lo, hi))
            ranges[n] = (min(a, lo), max(b, hi))
    g = graph.copy()
    q: dict[str, QuantParams] = {}
    for n in graph.inputs:
        q[n] = _minmax_q(*ranges[n])
    for node in graph.nodes:
        out = node.outputs[0]
        if node.op_type in FIXED_OUT:
            q[out] = qp(*FIXED_OUT[node.op_type])
        elif node.op_type in SAME_SCALE and node.inputs[0] in q:
            for o in node.outputs:
                q[o] = q[node.inputs[0]]
        elif out in ranges:
            for o in node.outputs:
                q[o] = _minmax_q(*ranges[o])
    for node in g.nodes:  # inputs of same-scale multi-input ops share the output's params
        if node.op_type in {"Concat", "Max", "Min"}:
            for i in node.inputs:
                if i in q and not graph.is_constant(i):
                    q[i] = q[node.outputs[0]]
    for name, params in q.items():
        t = g.tensors[name]
        g.tensors[name] = Tensor(name, np.int8, t.shape, None, params)
    for node in g.nodes:
        for k, i in enumerate(node.inputs):
            if not i or not graph.is_constant(i) or g.tensors[i].quant is not None:
                continue
            data = graph.tensors[i].data
            if data.dtype.kind != "f":
                continue
            if node.op_type in WEIGHTED and k == 1:
                b = QGraph()
                b.g = g
                wname = b.weight(data, axis=0, base=f"{i}_q")
                node.inputs[k] = wname
            elif node.op_type in WEIGHTED and k == 2:
                s_in = np.float64(q[node.inputs[0]].scale[0])
                s_w = g.tensors[node.inputs[1]].quant.scale.astype(np.float64)
                scale = (s_in * s_w).astype(np.float32)
                bq = QuantParams(scale, np.zeros(scale.size, np.int64), QDType.INT32, 0)
                name = g.unique_name(f"{i}_q")
                g.tensors[name] = Tensor(name, np.int32, data.shape,
                                         np.round(data / scale).astype(np.int32), bq)
                node.inputs[k] = name
            elif node.op_type not in ("Reshape", "Clip") and data.size >= 1:
                cq = _minmax_q(float(data.min()), float(data.max()))
                name = g.unique_name(f"{i}_q")
                g.tensors[name] = Tensor(name, np.int8, data.shape, cq.quantize(data), cq)
                node.inputs[k] = name
    # boundary
    for n in list(g.inputs):
        inner = g.unique_name(f"{n}_q")
        t = g.tensors[n]
        g.tensors[inner] = Tensor(inner, np.int8, t.shape, None, t.quant)
        g.tensors[n] = Tensor(n, np.float32, t.shape)
        for node in g.nodes:
            node.inputs = [inner if i == n else i for i in node.inputs]
        g.nodes.insert(0, Node(f"{n}_quantize", "Quantize", [n], [inner]))
    for n in list(g.outputs):
        inner = g.unique_name(f"{n}_q")
        t = g.tensors.pop(n)
        g.tensors[inner] = Tensor(inner, np.int8, t.shape, None, t.quant)
        for node in g.nodes:
            node.outputs = [inner if o == n else o for o in node.outputs]
            node.inputs = [inner if i == n else i for i in node.inputs]
        g.tensors[n] = Tensor(n, np.float32, t.shape)
        g.nodes.append(Node(f"{n}_dequantize", "Dequantize", [inner], [n]))
    g.remove_unused()
    g.toposort()
    return g
