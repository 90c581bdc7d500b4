"""The result of :func:`edgeq.quantize`: a QuantizedModel (the QuantizedGraph, the float
graphs it came from, and the quantization report), its integer-simulator run, and its
``.edgeq`` persistence (:mod:`edgeq.quantize.io.serialize`)."""

from __future__ import annotations

from pathlib import Path


class QuantizedModel:
    """A quantized model: ``graph`` is the QuantizedGraph, ``float_graph`` the canonical
    float graph it came from, ``lowered_graph`` the float graph after lowering (same
    tensor names as ``graph``), ``tensor_map`` float tensor -> quantized tensor,
    ``report`` what was done (int16 and float nodes, options, timings)."""

    def __init__(self, graph, float_graph, lowered_graph=None, *, tensor_map=None, report=None,
                 calibration_fingerprint: str = "", spec_name: str = "",
                 source: dict | None = None) -> None:
        self.graph = graph
        self.float_graph = float_graph
        self.lowered_graph = lowered_graph
        self.tensor_map = dict(tensor_map or {})
        self.report = dict(report or {})
        self.calibration_fingerprint = calibration_fingerprint
        self.spec_name = spec_name
        #: the FP32 model it came from: ``{"path", "sha256", "name"}`` (path may be None)
        self.source = dict(source or {})

    # -- running ------------------------------------------------------------------
    def run(self, feeds, integer_io: bool = False, outputs=None) -> dict:
        """Run the integer simulator (the truth, not fake-quant float). Float feeds and
        outputs by default; ``integer_io=True`` feeds/returns the boundary integers."""
        from edgeq.interp.int_interp import run_quantized

        return run_quantized(self.graph, feeds, outputs=outputs, integer_io=integer_io)

    @property
    def input_names(self) -> list[str]:
        return list(self.graph.inputs)

    @property
    def output_names(self) -> list[str]:
        return list(self.graph.outputs)

    # -- persistence ----------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model (zip ``.edgeq`` or directory, no pickle; see serialize.py)."""
        from edgeq.quantize.io import serialize

        graphs = {"quantized": self.graph, "float": self.float_graph}
        if self.lowered_graph is not None:
            graphs["lowered"] = self.lowered_graph
        meta = {"tensor_map": self.tensor_map, "report": self.report, "spec": self.spec_name,
                "calibration_fingerprint": self.calibration_fingerprint, "source": self.source}
        return serialize.save(path, graphs, meta)

    @classmethod
    def load(cls, path) -> "QuantizedModel":
        from edgeq.quantize.io import serialize

        graphs, meta = serialize.load(path)
        return cls(graphs["quantized"], graphs["float"], graphs.get("lowered"),
                   tensor_map=meta.get("tensor_map"), report=meta.get("report"),
                   calibration_fingerprint=meta.get("calibration_fingerprint", ""),
                   spec_name=meta.get("spec", ""), source=meta.get("source"))

    def summary(self) -> dict:
        r = self.report
        return {"spec": self.spec_name, "nodes": len(self.graph.nodes),
                "ops": self.graph.op_histogram(), "int16_nodes": len(r.get("int16_nodes", [])),
                "float_nodes": len(r.get("float_nodes", [])),
                "calibration_fingerprint": self.calibration_fingerprint}

    def __repr__(self) -> str:
        return (f"QuantizedModel({self.graph.name!r}, {len(self.graph.nodes)} nodes, "
                f"spec={self.spec_name!r})")
