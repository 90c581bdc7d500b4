"""A complete small third-party target plugin, written against ``edgeq.sdk`` alone.

The ``graphjson`` target writes the quantized graph as JSON (tensors, integer constants,
quantization parameters, nodes); its ``host`` runner reads the file back into an edgeq
graph and runs it in edgeq's integer simulator, so ``edgeq build`` and ``edgeq profile``
work end to end on it. Nothing here is imported by edgeq itself; it is found only
through its ``edgeq`` entry point.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from edgeq.sdk import (Artifact, BuildOptions, Graph, LatencyStats, Node, NodePlacement, ProfileReport,
                       QDType, QuantParams, QuantSpec, Runner, Target, Tensor, UsageError, attach_accuracy,
                       edgeq_version, hookimpl, run_quantized)

INTEGER_OPS = frozenset({"Quantize", "Dequantize", "Conv", "FullyConnected", "Add", "Relu",
                         "Reshape", "Flatten"})
MODEL_FILE = "graph.json"


class GraphJsonTarget(Target):
    """Writes the graph's nodes as JSON (a format for tests and debugging).

    With them go the tensors, integer constants and quantization parameters, so that
    the host runner can rebuild the graph.
    """

    name = "graphjson"
    artifact_kind = ".json"
    sdk_packages = ("json",)  # stdlib: always installed
    # the runner is the integer simulator itself
    simulator_tolerance_lsb = 0

    @property
    def spec(self) -> QuantSpec:
        return QuantSpec(name=self.name, activation_dtypes=(QDType.INT8, QDType.INT16),
                         per_channel_ops=frozenset({"Conv", "FullyConnected"}),
                         integer_ops=INTEGER_OPS, float_fallback_ops=frozenset({"Softmax"}),
                         int16_ops=INTEGER_OPS)

    def check(self, graph) -> list[NodePlacement]:
        return [NodePlacement(n.name, n.op_type, "integer") if n.op_type in INTEGER_OPS
                else NodePlacement(n.name, n.op_type, "unsupported", f"{n.op_type} is not integer here")
                for n in graph.nodes]

    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        graph = qmodel.graph
        (out_dir / MODEL_FILE).write_text(json.dumps(_graph_to_json(graph), sort_keys=True))
        io = [{"name": n, "shape": list(graph.tensors[n].shape), "dtype": "float32"} for n in graph.inputs]
        outs = [{"name": n, "shape": list(graph.tensors[n].shape), "dtype": "float32"} for n in graph.outputs]
        art = Artifact(out_dir, {"target": self.name, "profile": options.profile, "model_file": MODEL_FILE,
                                 "edgeq_version": edgeq_version(), "inputs": io, "outputs": outs,
                                 "calibration_fingerprint": getattr(qmodel, "calibration_fingerprint", None),
                                 "options": {"io_dtype": options.io_dtype}})
        art.write_manifest()
        return art


class JsonHostRunner(Runner):
    """Runs a graphjson artifact in edgeq's integer simulator on this machine."""

    name = "host"
    targets = ("graphjson",)

    def __init__(self, threads: int = 1, delegate: str | None = None):
        self.threads, self.delegate = threads, delegate

    def run(self, artifact, feeds):
        artifact.verify()
        graph = _graph_from_json(json.loads(artifact.file(MODEL_FILE).read_text()))
        return run_quantized(graph, feeds)

    def profile(self, artifact, feeds, *, runs=50, warmup=5, references=None, **options):
        if not feeds:
            raise UsageError("graphjson profile: no evaluation feeds")
        graph = _graph_from_json(json.loads(artifact.file(MODEL_FILE).read_text()))
        outputs = [run_quantized(graph, f) for f in feeds]
        for _ in range(warmup):
            run_quantized(graph, feeds[0])
        times = []
        for _ in range(max(1, runs)):
            t0 = time.perf_counter()
            run_quantized(graph, feeds[0])
            times.append((time.perf_counter() - t0) * 1e3)
        report = ProfileReport(target=artifact.target, runner=self.name,
                               latency=LatencyStats.from_samples(times),
                               device={"kind": "host", "model": "edgeq integer simulator"},
                               outputs=outputs)
        if references is not None:
            attach_accuracy(report, references)
        return report


# -- the file format ------------------------------------------------------------------


def _array_to_json(a: np.ndarray) -> dict:
    a = np.asarray(a)
    return {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().tolist()}


def _array_from_json(d: dict) -> np.ndarray:
    return np.asarray(d["values"], dtype=d["dtype"]).reshape(d["shape"])


def _value(v):
    if isinstance(v, np.ndarray):
        return {"__array__": _array_to_json(v)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return v


def _unvalue(v):
    if isinstance(v, dict) and "__array__" in v:
        return _array_from_json(v["__array__"])
    if isinstance(v, list):
        return [_unvalue(x) for x in v]
    return v


def _graph_to_json(graph: Graph) -> dict:
    tensors = {}
    for name, t in graph.tensors.items():
        entry = {"dtype": np.dtype(t.dtype).name, "shape": list(t.shape)}
        if t.data is not None:
            entry["data"] = _array_to_json(t.data)
        if t.quant is not None:
            q = t.quant
            entry["quant"] = {"scale": _array_to_json(q.scale), "zero_point": _array_to_json(q.zero_point),
                              "dtype": q.dtype.value, "axis": q.axis}
        tensors[name] = entry
    nodes = [{"name": n.name, "op_type": n.op_type, "inputs": list(n.inputs), "outputs": list(n.outputs),
              "attrs": {k: _value(v) for k, v in n.attrs.items()}} for n in graph.nodes]
    return {"name": graph.name, "inputs": list(graph.inputs), "outputs": list(graph.outputs),
            "tensors": tensors, "nodes": nodes}


def _graph_from_json(d: dict) -> Graph:
    g = Graph(d["name"])
    for name, e in d["tensors"].items():
        quant = None
        if "quant" in e:
            q = e["quant"]
            quant = QuantParams(_array_from_json(q["scale"]), _array_from_json(q["zero_point"]),
                                QDType(q["dtype"]), q["axis"])
        data = _array_from_json(e["data"]) if "data" in e else None
        g.tensors[name] = Tensor(name, np.dtype(e["dtype"]), tuple(e["shape"]), data, quant)
    g.inputs, g.outputs = list(d["inputs"]), list(d["outputs"])
    g.nodes = [Node(n["name"], n["op_type"], n["inputs"], n["outputs"],
                    {k: _unvalue(v) for k, v in n["attrs"].items()}) for n in d["nodes"]]
    return g


@hookimpl
def register_targets():
    return [GraphJsonTarget()]


@hookimpl
def register_runners():
    return [JsonHostRunner]
