"""From calibration statistics to a QuantizedModel (no data pass needed except for
``auto_mixed``): bias correction, ranges, lowering hints, build, mixed precision.

Kept separate from :mod:`.api` so that rebuilding for another spec or method reuses
the same statistics (``build_from_calibration`` is cheap).
"""

from __future__ import annotations

import logging
import time

from edgeq.errors import QuantizationError
from edgeq.types import QDType
from edgeq.quantize.algorithms import weight_rounding
from edgeq.quantize.quantized_model import QuantizedModel
from edgeq.quantize.rewrites import hardswish
from edgeq.quantize.algorithms.bias_correction import correct_biases
from edgeq.quantize.pipeline.graph_builder import build_quantized_graph
from edgeq.quantize.options import QuantizeOptions, match_nodes
from edgeq.quantize.pipeline.ranges import RangeChooser, hinted_ranges
from edgeq.quantize.spec import allows_fallback
from edgeq.types import QDType

log = logging.getLogger(__name__)


#: ops whose constant weights are the int8 work of a model
WEIGHT_OPS = frozenset({"Conv", "ConvTranspose", "FullyConnected", "MatMul", "Gemm"})


def weight_carrying(graph) -> set[str]:
    """Names of the nodes of ``graph`` that multiply by a constant weight tensor."""
    return {n.name for n in graph.nodes if n.op_type in WEIGHT_OPS and len(n.inputs) > 1
            and graph.is_constant(n.inputs[1])}


class Builder:
    """Everything needed to (re)build the QuantizedGraph for a set of int16 nodes."""

    def __init__(self, float_graph, lowered, hints, calib, spec, opts: QuantizeOptions,
                 dataset=None) -> None:
        self.float_graph = float_graph
        self.hints = hints
        self.equalized: dict[str, float] = {}
        self.static_overrides: dict = {}
        if opts.equalize:
            from edgeq.quantize.algorithms.equalize import equalize

            lowered, calib, self.static_overrides, self.equalized = equalize(lowered, calib)
        self.lowered = lowered
        self.calib = calib
        self.spec = spec
        self.opts = opts
        self.weight_cache: dict = {}
        self.chooser = RangeChooser(calib, opts.method, opts.method16,
                                    clip16=hints.spectrum if opts.int16_hints else (),
                                    **opts.observer_options())
        self.float_nodes = match_nodes(lowered, opts.float_nodes)
        bad = [n for n in self.float_nodes
               if not allows_fallback(spec, lowered.node_by_name(n).op_type)]
        if bad:
            raise QuantizationError(f"float fallback requested for {bad[:5]} but target spec "
                                    f"'{spec.name}' allows no float fallback for their op types")
        self.base_int16 = match_nodes(lowered, opts.int16, opts.int16_ops)
        if opts.int16_hints:
            self.base_int16 |= set(hints.int16)
            self.base_int16 |= mixed_range_output_concats(lowered, self.chooser)
        if opts.int16_residual:
            stream = set(hints.int16_stream)
            if spec.wide_in_float:
                # the stream's Adds and LayerNorm affine ops go to float; the layers
                # writing it keep int8 kernels (residual scaling gives each output
                # channel its own scale, api.py)
                stream -= weight_carrying(lowered)
            self.base_int16 |= stream
        if self.base_int16 and not spec.supports_int16():
            log.warning("spec '%s' has no int16 activations; int16 requests are ignored", spec.name)
        self.bias_report: dict[str, float] = {}
        self.graph_for_build = lowered
        self.gptq_weights = 0
        self.adaround: dict = {}
        weight_rounding(opts.weight_rounding).apply(self, dataset)
        if opts.bias_correction:
            self.graph_for_build, self.bias_report = correct_biases(
                self.graph_for_build, calib.channel_means, per_channel_ops=spec.per_channel_ops,
                weight_clip=opts.weight_clip, weight_cache=self.weight_cache, hessians=calib.hessians,
                skip=set(self.adaround.get("nodes", ())))

    def dtype_fn(self, int16_nodes):
        producers = self.lowered.producers()
        wide = self.spec.supports_int16()

        def dtype_of(tensor: str) -> QDType:
            node = producers.get(tensor)
            if wide and node is not None and node.name in int16_nodes and node.op_type in self.spec.int16_ops:
                return QDType.INT16
            return QDType.INT8
        return dtype_of

    def widened_to_float(self, int16_nodes: set[str]) -> tuple[set[str], dict[str, str]]:
        """Under ``spec.wide_in_float``: the int16 nodes that stay int16 (ops the spec
        cannot leave in float) and {node: reason} for the rest, which run in float."""
        op_of = {n.name: n.op_type for n in self.lowered.nodes}
        wide = {n: "needs more than 8 bits: float (the spec's wide_in_float)"
                for n in int16_nodes if n in op_of and allows_fallback(self.spec, op_of[n])}
        return int16_nodes - set(wide), wide

    def build(self, int16_nodes=None):
        int16_nodes = set(self.base_int16 if int16_nodes is None else int16_nodes)
        float_nodes: dict[str, str] = dict.fromkeys(self.float_nodes, "requested in float")
        if self.spec.wide_in_float:
            int16_nodes, wide = self.widened_to_float(int16_nodes)
            float_nodes.update(wide)
        overrides = dict(self.static_overrides)
        dtype_of = self.dtype_fn(int16_nodes)
        overrides.update(hinted_ranges(self.lowered, self.hints, self.chooser, dtype_of))
        graph, lowered = self.graph_for_build, self.lowered
        gelus = {n.name for n in lowered.nodes if n.op_type == "Gelu" and n.name in int16_nodes}
        if gelus and self.spec.supports_int16():
            # no int16 GELU kernel: int16 GELUs are expanded into their tanh form
            from edgeq.quantize.rewrites import gelu16

            rng = lambda x: self.chooser(x, dtype_of(x))  # noqa: E731
            graph, extra, new = gelu16.expand(graph, gelus, rng)
            lowered = gelu16.expand(lowered, gelus, rng)[0]
            overrides.update(extra)
            int16_nodes = (int16_nodes - gelus) | new
        producers = self.lowered.producers()
        sqrts = {r: x for r, x in self.hints.rsqrt_of.items()
                 if r in producers and producers[r].name in int16_nodes}
        if sqrts and self.spec.supports_int16():
            # int16 RSQRT is a coarse table near 0: widen its accurate range (sqrt16.py)
            from edgeq.quantize.rewrites import sqrt16

            rng = lambda x: self.chooser(x, dtype_of(x))  # noqa: E731
            graph, extra, new = sqrt16.expand(graph, sqrts, rng)
            lowered = sqrt16.expand(lowered, sqrts, rng)[0]
            overrides.update(extra)
            int16_nodes = int16_nodes | new
        graph, lowered, int16_nodes = hardswish.apply(self, graph, lowered, overrides, int16_nodes)
        result = build_quantized_graph(graph, self.chooser, self.spec,
                                       int16_nodes=int16_nodes, float_nodes=float_nodes,
                                       weight_clip=self.opts.weight_clip, range_overrides=overrides,
                                       weight_cache=self.weight_cache)
        if "LSTM" in self.spec.fused_ops and not self.spec.wide_in_float:
            # the target runs a whole LSTM as one integer operator (rewrites/fuse_lstm.py);
            # with wide_in_float its cell state is float, and the steps stay unrolled
            from edgeq.quantize.rewrites import fuse_lstm

            fuse_lstm.apply(result.graph, graph, self.lowered, self.opts.weight_clip)
        result.lowered = lowered
        return result

    def make_model(self, result, extra_report: dict | None = None):
        """The QuantizedModel of a build ``result`` with the report of what was done."""
        builder = self
        int16 = sorted(n for n, p in result.precision.items() if p == "int16")
        report = {
            "spec": builder.spec.name,
            "options": builder.opts.to_json(),
            "calibration_samples": builder.calib.num_samples,
            "int16_nodes": int16,
            "float_nodes": [{"node": n, "op_type": o, "reason": r} for n, o, r in result.fallback],
            "bias_correction": {k: round(v, 6) for k, v in builder.bias_report.items()},
            "gptq_weights": builder.gptq_weights,
            "adaround": {k: v for k, v in builder.adaround.items() if k != "nodes"},
            "equalized": {k: round(v, 3) for k, v in builder.equalized.items()},
            "ops": result.graph.op_histogram(),
        }
        report.update(extra_report or {})
        if result.fallback:
            log.warning("%d node(s) left in float: %s", len(result.fallback),
                        ", ".join(f"{n} ({o})" for n, o, _ in result.fallback[:10]))
        return QuantizedModel(result.graph, builder.float_graph, getattr(result, "lowered", None) or builder.lowered,
                              tensor_map=result.tensor_map, report=report,
                              calibration_fingerprint=builder.calib.data_fingerprint,
                              spec_name=builder.spec.name)


def build_from_calibration(float_graph, lowered, hints, calib, spec, opts: QuantizeOptions, *,
                           dataset=None):
    t0 = time.perf_counter()
    builder = Builder(float_graph, lowered, hints, calib, spec, opts, dataset=dataset)
    if opts.auto_mixed is not None:
        from edgeq.quantize.algorithms.mixed import auto_mixed

        result, extra = auto_mixed(builder, dataset, opts.auto_mixed)
    else:
        result, extra = builder.build(), {}
    qm = builder.make_model(result, extra)
    qm.report["build_s"] = round(time.perf_counter() - t0, 3)
    return qm


#: a Concat input narrower than this many int8 steps of the Concat's scale is lost
MIN_CONCAT_STEPS = 16


def mixed_range_output_concats(graph, chooser) -> set[str]:
    """Concats producing a graph output whose narrowest input would span fewer than
    ``MIN_CONCAT_STEPS`` int8 steps at the Concat's own scale (one int8 tensor, one
    scale): a detector head that concatenates boxes in pixels (0..640) with class
    scores (0..1) zeroes every score in int8. They are int16 (where the spec has int16
    Concat), so the narrow input keeps ~2^8 times more steps; the graph output is
    dequantized as before."""
    found = set()
    outputs = set(graph.outputs)
    for node in graph.nodes:
        if node.op_type != "Concat" or node.outputs[0] not in outputs:
            continue
        spans = []
        for name in node.inputs:
            if not name or graph.is_constant(name):
                continue
            lo, hi = chooser(name, QDType.INT8)
            spans.append(float(hi) - float(lo))
        lo, hi = chooser(node.outputs[0], QDType.INT8)
        step = (float(hi) - float(lo)) / 255.0
        if len(spans) > 1 and step > 0 and min(spans) < MIN_CONCAT_STEPS * step:
            found.add(node.name)
    return found
