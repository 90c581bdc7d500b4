"""A switchable fake-quantization model for fast sensitivity estimates.

The integer simulator is the truth for a QuantizedModel. Searching over mixed-precision
configurations needs many evaluations, so this module builds *one* float graph that
mirrors a QuantizedModel with per-node switches, runs it in onnxruntime, and turns
quantization of each node on or off at run time:

* every quantized activation ``t`` produced by node ``n`` becomes
  ``t + e_n · (fq(t) - t)`` with ``fq(t) = s · clip(round(t / s), qmin - zp, qmax - zp)``
  (the tensor's QuantParams) and ``e_n`` a scalar graph input (1 = quantized);
* Conv/FullyConnected weights and biases become ``W + e_n · (Ŵ - W)`` with ``Ŵ`` the
  dequantized integer weights/bias of the QuantizedGraph (bias correction included).

``e_n = 1`` everywhere approximates the int8 model in float (rounding of fixed-point
requantization and of LUT-based kernels aside); ``e_n = 0`` approximates a node whose
int16 (or float) arithmetic is nearly lossless. Switches are named by node.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor

log = logging.getLogger(__name__)

INPUTS_SWITCH = "<inputs>"


def _switch_name(i: int) -> str:
    return f"edgeq_fq_switch_{i}"


class FakeQuantModel:
    """``run(feed, enabled)`` with ``enabled`` a set of switch names (nodes, or
    ``INPUTS_SWITCH`` for the graph inputs) or ``"all"``."""

    def __init__(self, qmodel, threads: int | None = None) -> None:
        self.lowered: Graph = qmodel.lowered_graph
        self.qgraph: Graph = qmodel.graph
        self.tmap = qmodel.tensor_map
        self.switches: list[str] = []
        self._switch_input: dict[str, str] = {}
        self.graph = self._build()
        from edgeq.interp.ort_backend import OrtRunner
        from edgeq.quantize.rewrites.prepare import executable

        self.runner = OrtRunner(executable(self.graph), outputs=list(self.lowered.outputs),
                                threads=threads or 2)

    # -- graph construction ----------------------------------------------------------
    def _switch(self, g: Graph, key: str) -> str:
        if key not in self._switch_input:
            name = _switch_name(len(self.switches))
            g.tensors[name] = Tensor(name, np.float32, ())
            g.inputs.append(name)
            self.switches.append(key)
            self._switch_input[key] = name
        return self._switch_input[key]

    def _params(self, tensor: str):
        q = self.tmap.get(tensor)
        t = self.qgraph.tensors.get(q) if q else None
        return None if t is None or t.quant is None or t.dtype.kind != "i" else t.quant

    def _fq(self, g: Graph, nodes: list[Node], x: str, out: str, params, switch: str) -> None:
        """``out = x + e·(fq(x) - x)`` appended to ``nodes``."""
        s = float(params.scale[0])
        zp = int(params.zero_point[0])
        lo, hi = params.dtype.qmin - zp, params.dtype.qmax - zp
        c = lambda base, v: g.add_constant(f"{x}/fq_{base}", np.asarray(v, np.float32))  # noqa: E731
        t = [g.unique_name(f"{x}/fq{i}") for i in range(5)]
        for name in t:
            g.tensors[name] = Tensor(name, np.float32, g.tensors[x].shape)
        nodes += [Node(t[0], "Mul", [x, c("inv_scale", 1.0 / s)], [t[0]]),
                  Node(t[1], "Round", [t[0]], [t[1]]),
                  Node(t[2], "Clip", [t[1], c("lo", lo), c("hi", hi)], [t[2]]),
                  Node(t[3], "Mul", [t[2], c("scale", s)], [t[3]]),
                  Node(t[4], "Sub", [t[3], x], [t[4]]),
                  Node(f"{out}/fq_mix", "Mul", [t[4], switch], [f"{out}/fq_delta"]),
                  Node(f"{out}/fq_out", "Add", [x, f"{out}/fq_delta"], [out])]
        g.tensors[f"{out}/fq_delta"] = Tensor(f"{out}/fq_delta", np.float32, g.tensors[x].shape)

    def _mixed_const(self, g: Graph, nodes, name: str, exact: np.ndarray, quant: np.ndarray, switch: str) -> str:
        delta = g.add_constant(f"{name}/fq_delta", (quant.astype(np.float64) - exact).astype(np.float32))
        base = g.add_constant(f"{name}/fq_float", exact.astype(np.float32))
        d = g.unique_name(f"{name}/fq_scaled")
        out = g.unique_name(f"{name}/fq_mixed")
        for n in (d, out):
            g.tensors[n] = Tensor(n, np.float32, exact.shape)
        nodes += [Node(d, "Mul", [delta, switch], [d]), Node(out, "Add", [base, d], [out])]
        return out

    def _build(self) -> Graph:
        src = self.lowered
        g = Graph(src.name + "_fakequant", dict(src.tensors), [], list(src.inputs), list(src.outputs),
                  src.opset, {})
        rename: dict[str, str] = {}
        nodes: list[Node] = []
        for x in list(src.inputs):
            p = self._params(x)
            if p is not None:
                raw = g.unique_name(f"{x}/float")
                rename[x] = raw
                # the graph input keeps its name; consumers read the fake-quantized value
                g.tensors[raw] = Tensor(raw, np.float32, src.tensors[x].shape)
                self._fq(g, nodes, x, raw, p, self._switch(g, INPUTS_SWITCH))
        qnodes = {n.name: n for n in self.qgraph.nodes}
        for node in src.nodes:
            new = Node(node.name, node.op_type, [rename.get(i, i) for i in node.inputs], list(node.outputs),
                       dict(node.attrs), node.domain)
            qn = qnodes.get(node.name)
            if qn is not None and node.op_type in ("Conv", "FullyConnected"):
                sw = self._switch(g, node.name)
                wq = self.qgraph.tensors[qn.inputs[1]]
                new.inputs[1] = self._mixed_const(g, nodes, node.inputs[1], src.const(node.inputs[1]),
                                                  wq.quant.dequantize(wq.data), sw)
                if len(qn.inputs) > 2 and qn.inputs[2]:
                    bq = self.qgraph.tensors[qn.inputs[2]]
                    bf = src.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else \
                        np.zeros(bq.shape, np.float32)
                    deq = bq.data.astype(np.float64) * bq.quant.scale.astype(np.float64)
                    new.inputs = list(new.inputs) + [""] * (3 - len(new.inputs))
                    new.inputs[2] = self._mixed_const(g, nodes, f"{node.name}/bias", bf, deq, sw)
            quantized = [(i, o) for i, o in enumerate(node.outputs) if o and self._params(o) is not None]
            for i, o in quantized:
                raw = g.unique_name(f"{o}/float")
                g.tensors[raw] = Tensor(raw, np.float32, src.tensors[o].shape)
                new.outputs[i] = raw
            nodes.append(new)
            for i, o in quantized:
                self._fq(g, nodes, new.outputs[i], o, self._params(o), self._switch(g, node.name))
        g.nodes = nodes
        return g

    # -- running -------------------------------------------------------------------
    def run(self, feed: dict, enabled="all") -> dict[str, np.ndarray]:
        full = dict(feed)
        for key, name in self._switch_input.items():
            on = enabled == "all" or key in enabled
            full[name] = np.array(1.0 if on else 0.0, np.float32)
        return self.runner.run(full)
