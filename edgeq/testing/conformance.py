"""The target-neutral conformance harness: every case of :mod:`edgeq.testing.cases` run
three ways and compared.

* :func:`simulate` — edgeq's integer simulator on the case's integer inputs (the truth
  every target is held to);
* :func:`float_reference` — the float interpreter on the dequantized graph, fed the
  dequantized integer inputs, so that only the op's own rounding separates it from the
  simulator (an independent check of what the quantized op means);
* :func:`run_on_target` — the case emitted by an installed target plugin (through its
  ``Target.emit``, as ``edgeq build`` would) and run by that target's host runner.

A target states how far its host runner may be from the simulator in
``Target.simulator_tolerance_lsb`` (output LSBs; 0 means bit-exact). A case the target
cannot place (``Target.check`` reports an unsupported node) is not run, with the
target's reason (:class:`CaseNotSupported`).

This module is part of what a plugin's tests may import (docs/plugins.md).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeq.errors import EdgeqError
from edgeq.ir.graph import Graph, Node, Tensor

#: seed of every case's random inputs (uniform in the case's range)
FEED_SEED = 7


class CaseNotSupported(EdgeqError):
    """The target cannot run this case; the message says which node and why."""


@dataclass
class Case:
    """One conformance case: its quantized graph and float feeds."""

    name: str
    graph: Graph
    feeds: dict[str, np.ndarray]
    int_feeds: dict[str, np.ndarray] = field(default_factory=dict)


class CaseModel:
    """What ``Target.emit`` reads of a QuantizedModel, for a hand-built quantized graph."""

    def __init__(self, graph: Graph, float_graph: Graph | None = None,
                 fingerprint: str = "calib-test") -> None:
        self.graph = graph
        self.float_graph = float_graph
        self.calibration_fingerprint = fingerprint


def case_names() -> list[str]:
    from edgeq.testing.cases import CASES

    return sorted(CASES)


def load_case(name: str) -> Case:
    """Build case ``name`` with its seeded random inputs."""
    from edgeq.testing.cases import CASES

    builder, (lo, hi) = CASES[name]()
    graph = builder.build()
    rng = np.random.default_rng(FEED_SEED)
    feeds = {n: rng.uniform(lo, hi, graph.tensors[n].shape).astype(np.float32) for n in graph.inputs}
    return Case(name, graph, feeds, integer_feeds(graph, feeds))


def integer_feeds(graph: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Quantize float feeds with the params of each input's boundary Quantize (integer
    inputs pass through)."""
    consumers = graph.consumers()
    out = {}
    for name, value in feeds.items():
        t = graph.tensors[name]
        if t.dtype.kind != "f":
            out[name] = value
            continue
        (q,) = consumers[name]
        assert q.op_type == "Quantize", f"input {name!r} is not read by a Quantize"
        out[name] = graph.tensors[q.outputs[0]].quant.quantize(value)
    return out


def simulate(graph: Graph, int_feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The integer simulator's boundary integers for the integer inputs ``int_feeds``."""
    from edgeq.interp.int_interp import run_quantized

    return run_quantized(graph, int_feeds, integer_io=True)


def dequantized_graph(graph: Graph) -> Graph:
    """The float graph a quantized graph approximates: constants dequantized, every
    tensor float32, Quantize/Dequantize as Identity."""
    from edgeq.quantize.rewrites.prepare import executable

    g = graph.copy()
    for name, t in list(g.tensors.items()):
        data = t.data
        if data is not None and t.quant is not None:
            data = t.quant.dequantize(data)
        dtype = np.float32 if (t.quant is not None or t.dtype.kind == "f") else t.dtype
        g.tensors[name] = Tensor(name, dtype, t.shape, data if data is None or dtype != np.float32
                                 else np.asarray(data, np.float32), None)
    g.nodes = [Node(n.name, "Identity" if n.op_type in ("Quantize", "Dequantize") else n.op_type,
                    n.inputs, n.outputs, dict(n.attrs)) for n in g.nodes]
    # Rsqrt / SquaredDifference as ONNX ops, so that the float interpreter runs them
    return executable(g)


def float_reference(graph: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The dequantized graph in float, fed the dequantized integer inputs."""
    from edgeq.interp.float_interp import run_graph

    consumers = graph.consumers()
    deq = {}
    for name, v in integer_feeds(graph, feeds).items():
        q = consumers[name][0] if graph.tensors[name].dtype.kind == "f" else None
        qt = graph.tensors[q.outputs[0]].quant if q is not None else graph.tensors[name].quant
        deq[name] = qt.dequantize(v) if qt is not None else v
    return run_graph(dequantized_graph(graph), deq)


def output_params(graph: Graph) -> dict[str, object]:
    """Per graph output, the QuantParams of the integer tensor its Dequantize reads (None
    for an integer output)."""
    producers = graph.producers()
    out = {}
    for name in graph.outputs:
        node = producers.get(name)
        src = node.inputs[0] if node is not None and node.op_type == "Dequantize" else name
        out[name] = graph.tensors[src].quant
    return out


def run_on_target(target: str, case: Case, work_dir: str | Path | None = None,
                  runner: str = "host") -> dict[str, np.ndarray]:
    """Emit ``case`` for the installed target ``target`` (float I/O) and run it once with
    its ``runner``; returns the float outputs by name.

    Raises :class:`CaseNotSupported` naming the node when ``Target.check`` places any node
    as unsupported, and TargetUnavailableError when the target's SDK is missing.
    """
    from edgeq.targets import get_runner, get_target

    resolved = get_target(target)
    resolved.require_sdk()
    placements = resolved.target.check(case.graph)
    bad = [p for p in placements if p.where == "unsupported"]
    if bad:
        raise CaseNotSupported("; ".join(f"node '{p.node}' ({p.op_type}): {p.reason}" for p in bad[:3]))
    options = resolved.build_options()
    options.io_dtype = "float32"
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        out_dir = Path(tmp) / case.name
        out_dir.mkdir()
        artifact = resolved.target.emit(CaseModel(case.graph), out_dir, options)
        outputs = get_runner(runner, resolved).run(artifact, case.feeds)
    return {k: np.asarray(v) for k, v in outputs.items()}


def tolerance_for(tolerance_lsb, dtype) -> int:
    """A target's tolerance for an output of storage type ``dtype``: the number itself, or
    its entry for the dtype's name ("int8", "int16") when the target states one per type
    (a target that computes int16 tensors in fp16 is off by more int16 steps)."""
    if isinstance(tolerance_lsb, dict):
        name = getattr(dtype, "value", str(dtype))
        return int(tolerance_lsb.get(name, tolerance_lsb.get("default", 0)))
    return int(tolerance_lsb)


def compare_to_simulator(case: Case, outputs: dict[str, np.ndarray], tolerance_lsb) -> dict[str, int]:
    """Largest difference of a target's float ``outputs`` from the simulator, in output
    LSBs, per output; AssertionError past the tolerance (an int, or a dict per output
    storage type, see :func:`tolerance_for`)."""
    sim = simulate(case.graph, case.int_feeds)
    params = output_params(case.graph)
    worst = {}
    for name, q in params.items():
        got = np.asarray(outputs[name])
        if q is None:  # integer outputs (indices) must match exactly
            np.testing.assert_array_equal(got.reshape(sim[name].shape), sim[name], err_msg=name)
            worst[name] = 0
            continue
        # back to the integer grid of the output: (real / scale) + zero point
        ints = np.rint(got.astype(np.float64).reshape(sim[name].shape) / np.float64(q.scale[0])
                       + float(q.zero_point[0]))
        lsb = int(np.max(np.abs(ints - sim[name].astype(np.float64)))) if ints.size else 0
        worst[name] = lsb
        allowed = tolerance_for(tolerance_lsb, q.dtype)
        assert lsb <= allowed, (f"{case.name}: output {name!r} is {lsb} LSB from the integer "
                                f"simulator (tolerance {allowed})")
    return worst
