"""Cross-layer equalization (CLE) of consecutive Conv / FullyConnected layers.

Nagel et al. 2019, *Data-Free Quantization Through Weight Equalization and Bias
Correction*, §4.1. For two layers ``y = B(f(A(x)))`` with ``f`` positively homogeneous
(``f(x / s) = f(x) / s`` for ``s > 0``: identity and ReLU), scaling output channel ``i``
of ``A`` (weights and bias) by ``1 / s_i`` and input channel ``i`` of ``B`` by ``s_i``
leaves ``y`` unchanged. Choosing ``s_i = sqrt(r1_i / r2_i)``, with ``r1_i`` the range
(max |w|) of ``A``'s output channel ``i`` and ``r2_i`` the range of ``B``'s input
channel ``i``, makes both ranges ``sqrt(r1_i · r2_i)`` (the paper's eq. 10: the optimal
equalization of the two layers' per-channel precision). Chains (``A → B → C``, e.g. a
MobileNetV2 block: expand → depthwise → project) are equalized pair by pair,
repeatedly, until no scale moves by more than ``tol`` (the paper's iterative
procedure), because the middle layer takes part in two pairs.

What it buys with edgeq's scheme: weights are quantized *per output channel*, so
scaling ``A``'s rows and a depthwise ``B``'s channels does not change their own
quantization; what changes is the per-tensor int8 *activation* between the layers
(its channels' ranges are equalized along with ``A``'s rows) and the per-output-channel
ranges of a dense ``B`` (its columns are rescaled). docs/quantization.md
("Cross-layer equalization") gives the measured effect on MobileNetV2.

Pattern: ``A`` is a Conv (any group) or FullyConnected whose output reaches ``B`` — a
Conv (any group) or FullyConnected consuming it as data input — directly or through
channel-wise positively-homogeneous ops (:data:`PASS_THROUGH`: pooling, and ``Flatten``
of a ``[N, C, 1, 1]`` tensor). Every tensor on the way has that single reader and is no
graph output; both weights are constant 2-D-or-more arrays read by no other node.

Activations: ``A``'s fused clamp must be none or ReLU (``act_min`` 0, ``act_max`` +inf).
ReLU6 (``act_max`` 6) is *not* scale-equivariant (``min(x, 6) / s != min(x / s, 6)``).
With ``relu6="replace"`` (the paper's choice for MobileNetV2) the clamp's upper bound
is dropped (ReLU6 → ReLU) on the equalized layers, which changes the float function
wherever a pre-activation exceeds 6 (the measured cost is in the docs); with
``relu6="keep"`` such pairs are left alone and the graph computes exactly what it did.
Other clamps (e.g. ``Clip(-1, 1)``) always stop a pair.

Contract of :func:`run` / :func:`equalize`: rewrites the graph in place (new constant
arrays, same tensor names, same node names and order), returns what it did. Constant
arrays are never mutated in place (graphs made by ``Graph.copy`` share them).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from edgeq.errors import UsageError
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes._match import Uses

log = logging.getLogger(__name__)

LAYERS = ("Conv", "FullyConnected")
#: channel-wise ops through which a positive per-channel scale passes unchanged
#: (max and average commute with multiplication by s > 0; zero padding stays zero)
PASS_THROUGH = ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten")
#: scales are kept in this band so that a dead channel (range ~0) cannot blow a
#: neighbour's weights up to inf/0
MAX_SCALE = 1e4


@dataclass
class Pair:
    first: str   # node A
    second: str  # node B
    path: list[str] = field(default_factory=list)  # pass-through nodes between them


@dataclass
class EqualizationReport:
    pairs: list[Pair] = field(default_factory=list)
    #: nodes whose ReLU6 clamp became a ReLU
    relu6_replaced: list[str] = field(default_factory=list)
    iterations: int = 0
    #: largest |log s| of the last sweep (convergence measure)
    last_change: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.pairs)

    def to_json(self) -> dict:
        return {"pairs": [[p.first, p.second] for p in self.pairs],
                "relu6_replaced": list(self.relu6_replaced), "iterations": self.iterations,
                "last_change": round(self.last_change, 8)}


def _clamp_kind(node: Node) -> str:
    lo = node.attrs.get("act_min", -math.inf)
    hi = node.attrs.get("act_max", math.inf)
    if hi == math.inf and lo in (-math.inf, 0.0):
        return "homogeneous"  # identity or ReLU
    if lo == 0.0 and hi == 6.0:
        return "relu6"
    return "other"


def _out_channels(graph: Graph, node: Node) -> int:
    return int(graph.tensors[node.inputs[1]].shape[0])


def _in_channels(graph: Graph, node: Node) -> int:
    x = graph.tensors[node.inputs[0]].shape
    return int(x[1] if node.op_type == "Conv" else x[-1])


def _flatten_keeps_channels(graph: Graph, node: Node) -> bool:
    shape = graph.tensors[node.inputs[0]].shape
    return int(node.attrs.get("axis", 1)) == 1 and len(shape) >= 2 and \
        all(d == 1 for d in shape[2:])


def _weight_ok(graph: Graph, uses: Uses, node: Node) -> bool:
    if len(node.inputs) < 2 or not graph.is_constant(node.inputs[1]):
        return False
    w = graph.const(node.inputs[1])
    if w.dtype.kind != "f" or w.ndim < 2 or not uses.private(node.inputs[1]):
        return False
    if len(node.inputs) > 2 and node.inputs[2]:
        if not graph.is_constant(node.inputs[2]) or not uses.private(node.inputs[2]):
            return False
    return True


def find_pairs(graph: Graph, relu6: str = "replace") -> list[Pair]:
    """The (A, B) pairs that can be equalized (see the module docstring)."""
    if relu6 not in ("replace", "keep"):
        raise UsageError(f"equalization: relu6 must be 'replace' or 'keep', got {relu6!r}")
    uses = Uses(graph)
    pairs: list[Pair] = []
    for a in graph.nodes:
        if a.op_type not in LAYERS or a.domain or not _weight_ok(graph, uses, a):
            continue
        kind = _clamp_kind(a)
        if kind == "other" or (kind == "relu6" and relu6 == "keep"):
            continue
        name, path, b = a.outputs[0], [], None
        while name and uses.private(name):
            reader = uses.consumers[name][0]
            if reader.op_type in LAYERS and not reader.domain and reader.inputs[0] == name:
                b = reader
                break
            if reader.op_type in PASS_THROUGH and not reader.domain and \
                    (reader.op_type != "Flatten" or _flatten_keeps_channels(graph, reader)):
                path.append(reader.name)
                name = reader.outputs[0]
                continue
            break
        if b is None or not _weight_ok(graph, uses, b):
            continue
        if _out_channels(graph, a) != _in_channels(graph, b):
            continue  # e.g. a Flatten that mixed spatial positions into the features
        pairs.append(Pair(a.name, b.name, path))
    return pairs


# -- per-channel views of the weights ----------------------------------------------
def output_ranges(w: np.ndarray) -> np.ndarray:
    """max |w| per output channel (axis 0) of a Conv ``[O, I/g, ...]`` or FC ``[out, in]``."""
    return np.abs(w.reshape(w.shape[0], -1)).max(axis=1)


def _grouped(w: np.ndarray, node: Node) -> np.ndarray:
    """``W`` of a consumer as ``[g, O/g, I/g, taps]`` (FC: one group, in = axis 1)."""
    if node.op_type == "FullyConnected":
        return w.reshape(1, w.shape[0], w.shape[1], 1)
    g = int(node.attrs.get("group", 1))
    return w.reshape(g, w.shape[0] // g, w.shape[1], -1)


def input_ranges(w: np.ndarray, node: Node) -> np.ndarray:
    """max |w| per *input* channel of ``node``'s weight (groups and depthwise included)."""
    return np.abs(_grouped(w, node)).max(axis=(1, 3)).reshape(-1)


def scale_inputs(w: np.ndarray, node: Node, s: np.ndarray) -> np.ndarray:
    """``node``'s weight with input channel ``i`` multiplied by ``s[i]`` (a new array)."""
    wg = _grouped(w, node)
    return (wg * s.reshape(wg.shape[0], 1, wg.shape[2], 1)).reshape(w.shape).astype(w.dtype)


def pair_scales(w1: np.ndarray, w2: np.ndarray, second: Node) -> np.ndarray:
    """The paper's ``s_i = sqrt(r1_i / r2_i)``; 1 where either range is 0."""
    r1 = output_ranges(w1).astype(np.float64)
    r2 = input_ranges(w2, second).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(r1 / r2)
    s = np.where((r1 > 0) & (r2 > 0) & np.isfinite(s), s, 1.0)
    return np.clip(s, 1.0 / MAX_SCALE, MAX_SCALE)


def equalize(graph: Graph, *, relu6: str = "replace", max_iter: int = 100,
             tol: float = 1e-4) -> EqualizationReport:
    """Equalize every pair :func:`find_pairs` finds, in place (see the module docstring)."""
    report = EqualizationReport(find_pairs(graph, relu6))
    if not report.pairs:
        return report
    nodes = {n.name: n for n in graph.nodes}
    weights: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for p in report.pairs:
        for name in (p.first, p.second):
            n = nodes[name]
            weights[name] = graph.const(n.inputs[1]).astype(np.float64)
            if len(n.inputs) > 2 and n.inputs[2]:
                biases[name] = graph.const(n.inputs[2]).astype(np.float64)
    for it in range(1, max_iter + 1):
        worst = 0.0
        for p in report.pairs:
            a, b = nodes[p.first], nodes[p.second]
            s = pair_scales(weights[p.first], weights[p.second], b)
            shape = (-1,) + (1,) * (weights[p.first].ndim - 1)
            weights[p.first] = weights[p.first] / s.reshape(shape)
            if p.first in biases:
                biases[p.first] = biases[p.first] / s
            weights[p.second] = scale_inputs(weights[p.second], b, s)
            worst = max(worst, float(np.max(np.abs(np.log(s)))))
        report.iterations, report.last_change = it, worst
        if worst < tol:
            break
    else:
        log.info("equalization stopped after %d sweeps (last change %.2g)", max_iter, worst)
    for name, w in weights.items():
        _set_const(graph, nodes[name].inputs[1], w)
    for name, b in biases.items():
        _set_const(graph, nodes[name].inputs[2], b)
    for p in report.pairs:
        a = nodes[p.first]
        if _clamp_kind(a) == "relu6":
            a.attrs["act_max"] = math.inf
            report.relu6_replaced.append(a.name)
    log.info("equalized %d layer pairs in %d sweeps (%d ReLU6 → ReLU)", len(report.pairs),
             report.iterations, len(report.relu6_replaced))
    return report


def _set_const(graph: Graph, name: str, value: np.ndarray) -> None:
    old = graph.tensors[name]
    data = np.ascontiguousarray(value, dtype=old.dtype)
    graph.tensors[name] = Tensor(name, old.dtype, old.shape, data)


def run(graph: Graph, relu6: str = "replace") -> bool:
    """Pass form: equalize ``graph`` in place; True if any pair was equalized."""
    return equalize(graph, relu6=relu6).changed
