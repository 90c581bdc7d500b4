"""Residual-stream channel scaling: int8 residual streams despite outlier channels.

Transformer residual streams carry a few outlier channels (MiniLM's FFN outputs and
the residual sums feeding its LayerNorms reach ±200 on channel 99 next to values around
±2; Bondarenko et al. 2021, *Understanding and Overcoming the Challenges of Efficient
Transformer Quantization*, §3), so a per-tensor int8 scale leaves the ordinary channels
one or two levels. This pass rewrites the lowered float graph — exactly, before
calibration — so that the int8 stream holds ``h' = h / D`` for a per-channel diagonal
``D`` (powers of two, ``d_c >= 1``, large on the outlier channels).

A *segment* is a residual Add ``R`` whose output ``h`` is read only by a decomposed
LayerNorm (``decompose_layernorm``: ``mean = ReduceMean(h)``, ``Sub(h, mean)``), with
every input of ``R`` one of

* a FullyConnected read only by ``R``: its output rows and bias are divided by ``D``
  (``W' = D⁻¹W``, ``b' = D⁻¹b``). With per-output-channel weight scales the integer
  weights do not change at all; the per-channel requantization multiplier now writes
  each channel at its own scale (the TFLite FULLY_CONNECTED kernel's per-channel
  multipliers, tensorflow/lite/kernels/fully_connected.cc);
* a Gather from a constant table (an embedding) read only by ``R``, or a constant:
  divided by ``D`` along the last axis;
* the output ``x = a ⊙ n + c`` of the previous LayerNorm (``n`` its normalised
  tensor, ``a``/``c`` its γ/β ops folded): ``R`` reads ``Mul(n, a/D)``, computed while
  ``n`` is still int16 and requantized to int8 once, and ``c/D`` joins the bias of the
  FullyConnected writing into ``R`` (an ``Add`` when there is none).

The LayerNorm then reads ``h = h' · D`` (one Mul by a constant, hinted int16 like the
rest of the LayerNorm statistics path), so ``mean``, ``centered`` … see exactly the
float values they saw before. Each segment has its own ``D``: the LayerNorm ends it.
Every tensor the segment stores in int8 (the FullyConnected output, the residual sum,
the LayerNorm output copy) is now free of outliers; the new int16 Muls are inside the
LayerNorms, whose statistics path is int16 anyway.

The FullyConnected layers reading a LayerNorm output ``x`` (queries/keys/values, FFN
input) get the same treatment with their own, milder ``D_x`` (SmoothQuant's migration,
Xiao et al. 2023, with α = :data:`INPUT_ALPHA`): ``x`` becomes ``Mul(n, a/D_x)`` (int16,
read requantized to int8), their weights ``W·D_x`` and biases ``b + W c``. Scaling their
input columns by the stream's ``D`` instead would cost them 15–25 dB of weight SQNR (a
64× column in a per-row int8 scale); ``α = 0.5`` measured best on MiniLM (0.25 and 0.75
within 0.002 of its cosine, 1.0 0.006 below). Folding γ and β leaves one int8 rounding per
operand instead of three (``n`` to int8, times γ, plus β) and no int8 γ constant.

``D`` comes from calibration data: the per-channel absolute maxima ``m_c`` of the
segment's tensors over the first :data:`STAT_SAMPLES` samples, and
``d_c = 2^ceil(α log2(m_c / T))`` for ``m_c > T`` (α = 1 for the stream), ``T`` the
:data:`TARGET_QUANTILE` quantile of ``m`` (the ordinary channels' extent). Powers of two
keep the rewrite exact in float32.

Measured on MiniLM-L6 strictly int8 (docs/quantization.md): cosine mean 0.84 without,
above 0.98 with this pass.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes._emitter import HINT_INT16, HINT_INT16_STREAM, add_hint

log = logging.getLogger(__name__)

#: calibration samples whose per-channel maxima choose D
STAT_SAMPLES = 16
#: T, the extent ordinary channels keep, as a quantile of the per-channel maxima
TARGET_QUANTILE = 0.9
#: migration strength for LayerNorm outputs read by FullyConnected layers: D = (m/T)^α,
#: the FullyConnected weights' columns take D (SmoothQuant's α, Xiao et al. 2023)
INPUT_ALPHA = 0.5
#: largest d_c (2^10): beyond it, a channel is so far out that int16 statistics would not hold it either
MAX_SCALE = 1024.0


@dataclass
class Segment:
    """One residual Add feeding a decomposed LayerNorm, and how each input is scaled."""

    add: str                      #: the residual Add node
    channels: int                 #: size of the last axis
    readers: list[str]            #: the LayerNorm's nodes reading the Add's output
    inputs: list[tuple[str, str]] = field(default_factory=list)  #: (kind, tensor) per Add input
    chain: dict[str, list[Node]] = field(default_factory=dict)   #: x -> its γ/β ops (kind "layernorm")

    def tensors(self, graph: Graph) -> list[str]:
        """The tensors whose channel extents set ``D`` (the sum and each operand)."""
        out = graph.node_by_name(self.add).outputs[0]
        return [out] + [t for kind, t in self.inputs if kind != "const"]


def _const_operand(graph: Graph, node: Node, channels: int):
    """``(input index of the tensor, constant name)`` for a Mul/Add of a tensor and a
    per-channel (or smaller) constant, else None."""
    if node.op_type not in ("Mul", "Add") or len(node.inputs) != 2:
        return None
    for i in (0, 1):
        c = graph.const(node.inputs[1 - i])
        if c is not None and c.ndim <= 1 and c.size in (1, channels) and graph.const(node.inputs[i]) is None:
            return i, node.inputs[1 - i]
    return None


def _is_normalized(graph: Graph, node: Node | None, producers) -> bool:
    """``node`` is a decomposed LayerNorm's ``Mul(centered, rstd)``."""
    if node is None or node.op_type != "Mul" or len(node.inputs) != 2:
        return False
    ops = sorted(producers[i].op_type if i in producers else "" for i in node.inputs)
    return ops == ["Rsqrt", "Sub"]


def _layernorm_chain(graph: Graph, x: str, producers, channels: int) -> list[Node] | None:
    """The γ/β ops (``Mul``/``Add`` by per-channel constants, at most two) between a
    decomposed LayerNorm's normalised tensor and ``x``, first op first; None if ``x`` is
    not a LayerNorm output."""
    chain: list[Node] = []
    t = x
    while not _is_normalized(graph, producers.get(t), producers):
        node = producers.get(t)
        operand = _const_operand(graph, node, channels) if node is not None else None
        if operand is None or len(chain) == 2:
            return None
        chain.append(node)
        t = node.inputs[operand[0]]
    return chain[::-1]


def find_segments(graph: Graph) -> list[Segment]:
    """The residual Adds of ``graph`` whose every input can be scaled (module docstring)."""
    producers, consumers = graph.producers(), graph.consumers()
    segments = []
    for add in graph.nodes:
        if add.op_type != "Add" or len(add.inputs) != 2 or add.attrs.get("act_min") is not None \
                or add.attrs.get("act_max") is not None:
            continue
        h = add.outputs[0]
        shape = graph.tensors[h].shape
        if not shape or h in graph.outputs or len(set(add.inputs)) != 2:
            continue
        channels = int(shape[-1])
        readers = consumers.get(h, [])
        means = [n for n in readers if n.op_type == "ReduceMean" and _last_axis_only(graph, n, len(shape))]
        if len(means) != 1 or len(readers) != 2:
            continue
        subs = [n for n in readers if n.op_type == "Sub" and n.inputs == [h, means[0].outputs[0]]]
        if len(subs) != 1:
            continue
        seg = Segment(add.name, channels, [means[0].name, subs[0].name])
        for t in add.inputs:
            kind = _input_kind(graph, t, add, producers, consumers, channels, seg)
            if kind is None:
                break
            seg.inputs.append((kind, t))
        else:
            if any(k != "const" for k, _ in seg.inputs):
                segments.append(seg)
    return segments


def _last_axis_only(graph: Graph, node: Node, rank: int) -> bool:
    axes = graph.const(node.inputs[1]) if len(node.inputs) > 1 else node.attrs.get("axes")
    return axes is not None and [int(a) % rank for a in np.ravel(axes)] == [rank - 1] \
        and int(node.attrs.get("keepdims", 1)) == 1


def _input_kind(graph, t, add, producers, consumers, channels, seg) -> str | None:
    if graph.is_constant(t):
        c = graph.const(t)
        return "const" if c.ndim >= 1 and c.shape[-1] == channels else None
    node = producers.get(t)
    sole = [n.name for n in consumers.get(t, [])] == [add.name] and t not in graph.outputs
    if node is None:
        return None
    if node.op_type == "FullyConnected" and sole and graph.const(node.inputs[1]) is not None \
            and (len(node.inputs) < 3 or not node.inputs[2] or graph.const(node.inputs[2]) is not None) \
            and node.attrs.get("act_min") is None and node.attrs.get("act_max") is None:
        return "fc"
    if node.op_type == "Gather" and sole and int(node.attrs.get("axis", 0)) == 0:
        table = graph.const(node.inputs[0])
        if table is not None and table.ndim == 2 and table.shape[1] == channels:
            return "gather"
        return None
    chain = _layernorm_chain(graph, t, producers, channels)
    if chain is not None:
        seg.chain[t] = chain
        return "layernorm"
    return None


def choose_scales(maxima: np.ndarray, quantile: float = TARGET_QUANTILE, alpha: float = 1.0) -> np.ndarray:
    """``D`` for per-channel absolute maxima ``maxima`` (module docstring): powers of two
    ``2^ceil(alpha · log2(m_c / T))`` above the ``quantile`` extent ``T``, else 1."""
    m = np.asarray(maxima, np.float64)
    target = float(np.quantile(m, quantile))
    if not np.isfinite(target) or target <= 0:
        return np.ones(m.shape, np.float32)
    octaves = alpha * np.log2(np.maximum(m, target) / target)
    d = 2.0 ** np.ceil(octaves - 1e-6)
    return np.minimum(d, MAX_SCALE).astype(np.float32)


def find_fc_inputs(graph: Graph, segments: list[Segment]) -> dict[str, list[Node]]:
    """LayerNorm outputs ``x`` read only by FullyConnected layers (as their input, with
    constant weights) and by the residual Adds of ``segments``: ``x -> its γ/β ops``."""
    producers, consumers = graph.producers(), graph.consumers()
    adds = {s.add for s in segments}
    found = {}
    for x in dict.fromkeys(o for n in graph.nodes for o in n.outputs):
        if x in graph.outputs or not graph.tensors[x].shape:
            continue
        readers = consumers.get(x, [])
        fcs = [n for n in readers if n.op_type == "FullyConnected" and n.inputs[0] == x
               and x not in n.inputs[1:] and graph.const(n.inputs[1]) is not None]
        if not fcs or len(fcs) + sum(n.name in adds for n in readers) != len(readers):
            continue
        chain = _layernorm_chain(graph, x, producers, int(graph.tensors[x].shape[-1]))
        if chain:
            found[x] = chain
    return found


def apply_fc_inputs(graph: Graph, inputs: dict[str, list[Node]], scales: dict[str, np.ndarray]) -> int:
    """Rewrite ``graph`` in place for each LayerNorm output ``x = a ⊙ n + c`` of
    ``inputs`` (``n`` normalised, ``a``/``c`` its γ/β ops folded): ``x`` becomes
    ``Mul(n, a / D)`` (int16, inside the LayerNorm; its readers take it requantized to
    int8) and each FullyConnected reading it ``W · D`` with bias ``b + W c``. One int8
    rounding instead of three (n to int8, times γ, plus β), and γ is no longer an int8
    constant. Skipped where ``D = 1`` or ``x`` has other readers (a residual Add whose
    segment was not rewritten)."""
    done = 0
    consumers = graph.consumers()
    for x, chain in inputs.items():
        d = scales.get(x)
        readers = consumers.get(x, [])
        if d is None or np.all(d == 1) or any(n.op_type != "FullyConnected" for n in readers):
            continue
        d = np.asarray(d, np.float32)
        src, a, c = _affine(graph, chain, len(d))
        pre = Node(graph.unique_name(f"{x}/input_scaled"), "Mul",
                   [src, graph.add_constant(f"{x}/input_gamma", (a / d).astype(np.float32))], [x])
        k = graph.nodes.index(chain[-1])
        graph.nodes[k:k + 1] = [pre]
        for node in chain[:-1]:
            graph.nodes.remove(node)
        add_hint(graph, HINT_INT16, [pre.name])
        for fc in readers:
            w = graph.const(fc.inputs[1])
            bias = w.astype(np.float64) @ c
            if len(fc.inputs) > 2 and fc.inputs[2]:
                bias = bias + graph.const(fc.inputs[2])
            fc.inputs[1] = graph.add_constant(f"{fc.inputs[1]}/input_scaled", w * d[None, :])
            fc.inputs[2:] = [graph.add_constant(f"{fc.name}/input_bias", bias.astype(np.float32))]
        done += 1
    return done


def _affine(graph: Graph, chain: list[Node], channels: int) -> tuple[str | None, np.ndarray, np.ndarray]:
    """``(n, a, c)`` with ``chain`` (Mul/Add by per-channel constants) computing
    ``a ⊙ n + c`` from its input ``n`` (None for an empty chain)."""
    a, c = np.ones(channels), np.zeros(channels)
    src = None
    for node in chain:
        i, k = _const_operand(graph, node, channels)
        src = node.inputs[i] if src is None else src
        v = np.broadcast_to(graph.const(k).astype(np.float64), (channels,))
        a, c = (a * v, c * v) if node.op_type == "Mul" else (a, c + v)
    return src, a, c


def apply(graph: Graph, segments: list[Segment], scales: dict[str, np.ndarray]) -> int:
    """Rewrite ``graph`` in place: segment ``s.add`` carries ``h / scales[s.add]``.
    Segments without an entry, or with ``D = 1``, are left alone. Returns how many were
    rewritten."""
    done = 0
    for seg in segments:
        d = scales.get(seg.add)
        if d is None or np.all(d == 1):
            continue
        d = np.asarray(d, np.float32)
        inv = (1.0 / d).astype(np.float32)  # exact: powers of two
        add = graph.node_by_name(seg.add)
        new_nodes: list[Node] = []
        stream_nodes: list[str] = []
        stats_nodes: list[str] = []
        pre, shift = None, None
        for kind, t in seg.inputs:
            if kind == "const":
                add.inputs = [graph.add_constant(f"{t}/residual_scaled", graph.const(t) * inv)
                              if i == t else i for i in add.inputs]
            elif kind == "fc":
                fc = graph.producers()[t]
                w = graph.const(fc.inputs[1])
                fc.inputs[1] = graph.add_constant(f"{fc.inputs[1]}/residual_scaled", w * inv[:, None])
                if len(fc.inputs) > 2 and fc.inputs[2]:
                    fc.inputs[2] = graph.add_constant(f"{fc.inputs[2]}/residual_scaled",
                                                      graph.const(fc.inputs[2]) * inv)
            elif kind == "gather":
                g = graph.producers()[t]
                g.inputs[0] = graph.add_constant(f"{g.inputs[0]}/residual_scaled", graph.const(g.inputs[0]) * inv)
            else:  # layernorm: a scaled copy of its γ/β ops for the residual Add only
                pre, shift, x_scaled = _scaled_copy(graph, t, seg.chain[t], inv, seg.add)
                new_nodes.append(pre)
                stats_nodes.append(pre.name)
                add.inputs = [x_scaled if i == t else i for i in add.inputs]
        if pre is not None and np.any(shift != 0):
            # β/D joins the bias of a FullyConnected writing into the same Add (exact,
            # and one int8 rounding fewer), else it is added to the copy
            fcs = [t for kind, t in seg.inputs if kind == "fc"]
            if fcs:
                fc = graph.producers()[fcs[0]]
                bias = shift + (graph.const(fc.inputs[2]) if len(fc.inputs) > 2 and fc.inputs[2] else 0.0)
                fc.inputs[2:] = [graph.add_constant(f"{fc.name}/residual_bias", np.asarray(bias, np.float32))]
            else:
                x_scaled = pre.outputs[0]
                out = graph.unique_name(f"{seg.add}/operand_shifted")
                graph.tensors[out] = Tensor(out, np.float32, graph.tensors[x_scaled].shape)
                shift_node = Node(graph.unique_name(f"{seg.add}/operand_shifted"), "Add",
                                  [x_scaled, graph.add_constant(f"{seg.add}/operand_beta",
                                                                shift.astype(np.float32))], [out])
                new_nodes.append(shift_node)
                stream_nodes.append(shift_node.name)
                add.inputs = [out if i == x_scaled else i for i in add.inputs]
        h = add.outputs[0]
        h_full = graph.unique_name(f"{h}/unscaled")
        graph.tensors[h_full] = Tensor(h_full, np.float32, graph.tensors[h].shape)
        unscale = Node(graph.unique_name(f"{seg.add}/unscale"), "Mul",
                       [h, graph.add_constant(f"{seg.add}/channel_scale", d)], [h_full])
        for name in seg.readers:
            reader = graph.node_by_name(name)
            reader.inputs = [h_full if i == h else i for i in reader.inputs]
        i = graph.nodes.index(add)
        graph.nodes[i:i + 1] = new_nodes + [add, unscale]
        add_hint(graph, HINT_INT16_STREAM, stream_nodes)
        add_hint(graph, HINT_INT16, stats_nodes + [unscale.name])
        done += 1
    if done:
        graph.toposort()
    return done


def _scaled_copy(graph: Graph, x: str, chain: list[Node], inv: np.ndarray, prefix: str):
    """``(Mul node, c / D, output)``: ``Mul(n, a / D)`` (int16, inside the LayerNorm)
    for the LayerNorm output ``x = a ⊙ n + c`` (``chain`` its γ/β ops); the caller adds
    ``c / D``."""
    src, a, c = _affine(graph, chain, len(inv))
    src = x if src is None else src
    out = graph.unique_name(f"{prefix}/operand_scaled")
    graph.tensors[out] = Tensor(out, np.float32, graph.tensors[x].shape)
    node = Node(graph.unique_name(f"{prefix}/operand_scaled"), "Mul",
                [src, graph.add_constant(f"{prefix}/operand_gamma", (a * inv).astype(np.float32))], [out])
    return node, c * inv, out


def channel_maxima(graph: Graph, groups: dict[str, list[str]], feeds) -> dict[str, np.ndarray]:
    """Per group of tensors, the per-channel (last axis) absolute maximum over all of
    them and ``feeds`` (run in onnxruntime on the executable form of the lowered graph)."""
    from edgeq.interp.ort_backend import OrtRunner
    from edgeq.quantize.rewrites.prepare import executable

    fetch = list(dict.fromkeys(t for ts in groups.values() for t in ts))
    runner = OrtRunner(executable(graph), outputs=fetch)
    maxima: dict[str, np.ndarray] = {}
    for feed in feeds:
        out = runner.run(feed)
        for t in fetch:
            v = np.abs(np.asarray(out[t], np.float32)).reshape(-1, out[t].shape[-1]).max(0)
            maxima[t] = v if t not in maxima else np.maximum(maxima[t], v)
    return {g: np.max([maxima[t] for t in ts], axis=0) for g, ts in groups.items()}


def scale_residual_stream(graph: Graph, dataset, *, samples: int = STAT_SAMPLES,
                          quantile: float = TARGET_QUANTILE, input_alpha: float = INPUT_ALPHA
                          ) -> tuple[Graph, str, dict]:
    """Rewrite the lowered ``graph`` (a copy) for int8 residual streams.

    Returns ``(graph, key, report)``: ``key`` is "" when nothing changed, else a short
    digest of the chosen scales (it must enter the calibration cache key: the stream
    tensors keep their names but hold other values); ``report`` maps each rewritten
    residual Add and LayerNorm output to its scaled channels and their factors.
    """
    segments = find_segments(graph)
    if not segments:
        return graph, "", {}
    inputs = find_fc_inputs(graph, segments) if input_alpha > 0 else {}
    groups = {s.add: s.tensors(graph) for s in segments}
    groups.update({x: [x] for x in inputs})
    feeds = [f for _, f in zip(range(samples), dataset)]
    maxima = channel_maxima(graph, groups, feeds)
    scales = {s.add: choose_scales(maxima[s.add], quantile) for s in segments}
    scales.update({x: choose_scales(maxima[x], quantile, input_alpha) for x in inputs})
    g = graph.copy()
    segments = find_segments(g)
    done = apply(g, segments, scales)
    done += apply_fc_inputs(g, find_fc_inputs(g, segments), scales) if done else 0
    if not done:
        return graph, "", {}
    digest = hashlib.sha256()
    report = {}
    for s in sorted(scales):
        digest.update(s.encode() + scales[s].tobytes())
        idx = np.nonzero(scales[s] > 1)[0]
        if idx.size:
            report[s] = {str(int(c)): float(scales[s][c]) for c in idx}
    log.info("residual scaling: %d tensor group(s), %d channel(s) scaled", len(report),
             sum(len(v) for v in report.values()))
    return g, "rs" + digest.hexdigest()[:12], report
