"""Registers the ``graphjson`` target, whose artifact is the quantized graph written as
JSON, and a ``host`` runner that reads it back. Nothing here is imported by edgeq
itself; it is found only through its ``edgeq`` entry point."""

from __future__ import annotations

import json
from pathlib import Path

from edgeq.plugins import hookimpl
from edgeq.target import Artifact, BuildOptions, Runner, Target
from edgeq.types import NodePlacement, QDType, QuantSpec

INTEGER_OPS = frozenset({"Conv", "FullyConnected", "Add", "Relu"})


class GraphJsonTarget(Target):
    """Writes the graph's nodes as JSON (a format for tests and debugging)."""

    name = "graphjson"
    artifact_kind = ".json"
    sdk_packages = ("json",)  # stdlib: always installed

    @property
    def spec(self) -> QuantSpec:
        return QuantSpec(name=self.name, activation_dtypes=(QDType.INT8, QDType.INT16),
                         integer_ops=INTEGER_OPS, float_fallback_ops=frozenset({"Softmax"}))

    def check(self, graph) -> list[NodePlacement]:
        return [NodePlacement(n.name, n.op_type, "integer") if n.op_type in INTEGER_OPS
                else NodePlacement(n.name, n.op_type, "unsupported", f"{n.op_type} is not integer here")
                for n in graph.nodes]

    def emit(self, qmodel, out_dir: Path, options: BuildOptions) -> Artifact:
        graph = qmodel.graph
        nodes = [{"name": n.name, "op_type": n.op_type} for n in graph.nodes]
        (out_dir / "graph.json").write_text(json.dumps({"nodes": nodes}))
        art = Artifact(out_dir, {"target": self.name, "profile": options.profile,
                                 "options": {"io_dtype": options.io_dtype}})
        art.write_manifest()
        return art


class JsonHostRunner(Runner):
    """Reads a graphjson artifact back; records the options it was created with."""

    name = "host"
    targets = ("graphjson",)

    def __init__(self, threads: int = 1, delegate: str | None = None):
        self.threads, self.delegate = threads, delegate

    def run(self, artifact, feeds):
        artifact.verify()
        data = json.loads(artifact.file("graph.json").read_text())
        return {"op_types": [n["op_type"] for n in data["nodes"]]}

    def profile(self, artifact, feeds, *, runs=50, warmup=5, **options):
        raise RuntimeError("graphjson artifacts are not timed")


@hookimpl
def register_targets():
    return [GraphJsonTarget()]


@hookimpl
def register_runners():
    return [JsonHostRunner]
