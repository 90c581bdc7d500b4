"""Run a float IR graph in onnxruntime, with any IR tensor available as an output.

Contract: ``OrtRunner(graph, outputs=None, threads=1).run(feeds)`` returns a dict keyed by
IR tensor names: ``outputs`` (default ``graph.outputs``) may name any tensor of the graph
(intermediates, graph inputs, constants). The graph is exported with
:func:`edgeq.ir.onnx_export.to_onnx` (IR names preserved; ``to_onnx(graph, outputs=...)``
reproduces the exact model), the requested intermediates become ONNX graph outputs, and
one ``InferenceSession`` is built at construction and reused for every ``run``. Feeds are validated like the float interpreter's
(:func:`edgeq.interp.float_interp.check_feeds`).

This is the fast float path for calibration (see docs/interpreter.md for the measured
speed-up over the numpy interpreter); results agree with
:func:`edgeq.interp.float_interp.run_graph` to float32 rounding (the conformance suite
checks both against each other).
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping

import numpy as np

from edgeq.errors import ModelLoadError, ShapeError, UnsupportedOpError
from edgeq.interp.float_interp import check_feeds
from edgeq.ir.onnx_export import to_onnx

logger = logging.getLogger(__name__)


class OrtRunner:
    """An onnxruntime session over an IR graph, returning tensors by IR name.

    ``threads`` sets ``intra_op_num_threads`` (1 = deterministic single-core timing);
    ``optimize=False`` disables onnxruntime's graph optimisations (kernels then run
    exactly the exported ops, useful when comparing numerics op by op).
    """

    def __init__(self, graph, outputs: Iterable[str] | None = None, threads: int = 1,
                 *, optimize: bool = True) -> None:
        import onnxruntime as ort

        self.graph = graph
        self.outputs = list(graph.outputs if outputs is None else outputs)
        unknown = [n for n in self.outputs if n not in graph.tensors]
        if unknown:
            raise ShapeError(f"graph '{graph.name}' has no tensor(s) {unknown}; OrtRunner can "
                             f"return any of its {len(graph.tensors)} tensors by name")
        # graph inputs and constants are known without running anything
        self._direct = [n for n in self.outputs if n in graph.inputs or graph.is_constant(n)]
        computed = [n for n in dict.fromkeys(self.outputs) if n not in self._direct]
        self._session_outputs = computed
        self.session = None
        self._model_bytes = None
        if computed:
            # the ModelProto is not kept: onnxruntime reads the serialized bytes in place
            # (use_ort_model_bytes_directly / _for_initializers), so the weights exist once
            # in the IR and once in onnxruntime, not also in a proto and a copy of it
            self._model_bytes = to_onnx(graph, outputs=computed).SerializeToString()
            opts = ort.SessionOptions()
            opts.add_session_config_entry("session.use_ort_model_bytes_directly", "1")
            opts.add_session_config_entry("session.use_ort_model_bytes_for_initializers", "1")
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.log_severity_level = 3
            if not optimize:
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            try:
                self.session = ort.InferenceSession(self._model_bytes, opts,
                                                    providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own exception types
                message = str(exc)
                kind = UnsupportedOpError if "NOT_IMPLEMENTED" in message or \
                    "Could not find an implementation" in message else ModelLoadError
                raise kind(f"onnxruntime cannot load graph '{graph.name}' exported from the "
                           f"edgeq IR: {message.strip()[:500]}") from None

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run on one set of feeds; return ``{name: array}`` for the requested outputs."""
        checked = check_feeds(self.graph, feeds)
        results: dict[str, np.ndarray] = {}
        if self.session is not None:
            values = self.session.run(self._session_outputs, checked)
            results.update(zip(self._session_outputs, values))
        for name in self._direct:
            results[name] = checked[name] if name in checked else self.graph.tensors[name].data
        return {name: results[name] for name in self.outputs}

    def __repr__(self) -> str:
        return f"OrtRunner(graph={self.graph.name!r}, outputs={len(self.outputs)})"
