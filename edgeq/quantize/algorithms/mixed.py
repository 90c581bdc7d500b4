"""Mixed precision: per-layer sensitivity and automatic int16 promotion.

* :func:`edgeq.quantize.api.sensitivity` quantizes the model, then measures the model-output SQNR with
  *only one layer* quantized (weights and output activations, every other node float),
  for every layer, with the switchable fake-quant model (:mod:`.fakequant`). Nodes that
  an unrolled loop repeats per time step (``.../t<k>/...``) form one layer.
* :func:`auto_mixed` ranks layers by what promoting each one alone gains with every
  other layer quantized (leave-one-out, fake-quant: promotion's effect in context, which
  is what the search needs), finds in fake-quant the shortest prefix of that ranking
  that meets the budget (binary search), then rebuilds the QuantizedGraph and scores it
  with the *integer simulator* (the truth), growing the prefix by a quarter until the
  budget is met, every candidate is int16 or ``max_int16_fraction`` of the nodes is
  reached. The report always says what was promoted and whether the budget was met.

Budgets: a number or ``"sqnr:DB"`` (minimum over outputs of the output SQNR in dB),
or ``"cosine:C"`` (minimum over outputs of the mean per-sample cosine similarity), each
optionally followed by ``",min:V"``: the worst single sample's value (same metric, same
unit) must reach ``V`` too. A handful of samples says little about a minimum, so with
such a bound every simulation scores a pool of ``TAIL_POOL × eval_samples`` calibration
samples, and fake-quant only interpolates, per sample, between two simulated
configurations that bracket the answer (:class:`_Search`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from edgeq.quantize.algorithms.budget import SYNTAX, Budget, Score  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

_STEP = re.compile(r"/t\d+/")
#: besides the spec's int16 ops, auto_mixed may promote Gelu (expanded into int16 ops
#: the target has, see gelu16.py)
EXPANDED_TO_INT16 = frozenset({"Gelu"})
#: data-movement ops, promoted with their producer when searching with a worst-sample bound
MOVE_OPS = frozenset({"Reshape", "Transpose", "Flatten", "Identity", "Squeeze", "Unsqueeze", "Slice",
                      "Split", "Expand", "Tile", "DepthToSpace", "SpaceToDepth"})
#: with a worst-sample bound, the tail is probed on up to this many times eval_samples
#: calibration samples
TAIL_POOL = 4
#: samples (and, with a worst-sample bound, as many hardest ones) of the leave-one-out ranking
RANK_SAMPLES = 4
#: a sample's fake-quant change between the anchors below this fraction of the
#: aggregate's does not place it between them (see _Search.estimate)
RELIABLE = 0.25


def layer_key(node_name: str) -> str:
    """Group per-time-step copies of a node (``lstm/t3/i_pre`` -> ``lstm/t*/i_pre``)."""
    return _STEP.sub("/t*/", node_name)


@dataclass
class Sensitivity:
    """``rows``: (layer, op_type, nodes, SQNR dB with only that layer quantized), most
    sensitive first; ``all_int8_db``: every layer quantized (fake-quant);
    ``simulator_db``: every layer quantized, in the integer simulator (the figure
    ``edgeq compare`` and ``edgeq profile`` report on the same samples)."""

    rows: list[tuple[str, str, int, float]] = field(default_factory=list)
    all_int8_db: float = float("nan")
    samples: int = 0
    simulator_db: float = float("nan")
    data: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    compares: str = ("fake-quant with one layer quantized at a time (rows) and with all "
                     "(all_int8_sqnr_db); the integer simulator with all (simulator_sqnr_db); "
                     "against the FP32 model in onnxruntime")

    def to_dict(self) -> dict:
        return {"samples": self.samples, "data": self.data, "calibration": self.calibration,
                "compares": self.compares, "simulator_sqnr_db": self.simulator_db,
                "all_int8_sqnr_db": self.all_int8_db,
                "layers": [{"layer": k, "op_type": o, "nodes": n, "sqnr_db": s} for k, o, n, s in self.rows]}


def _float_refs(float_graph, feeds):
    from edgeq.interp.ort_backend import OrtRunner

    runner = OrtRunner(float_graph)
    return [runner.run(f) for f in feeds]


def layer_sensitivity(fq, feeds, refs, budget: Budget, progress: bool = False) -> Sensitivity:
    from edgeq.calibrate.collect import _progress

    groups: dict[str, list[str]] = {}
    for sw in fq.switches:
        groups.setdefault(layer_key(sw), []).append(sw)
    ops = {n.name: n.op_type for n in fq.lowered.nodes}
    result = Sensitivity(samples=len(feeds))
    result.all_int8_db = budget.score(refs, [fq.run(f, "all") for f in feeds])
    with _progress(progress, len(groups), "sensitivity") as advance:
        for key, switches in groups.items():
            outs = [fq.run(f, set(switches)) for f in feeds]
            result.rows.append((key, ops.get(switches[0], "Input"), len(switches), budget.score(refs, outs)))
            advance()
    result.rows.sort(key=lambda r: r[3])
    return result


def auto_mixed(builder, dataset, budget_spec):
    """Promote layers to int16 until ``budget_spec`` is met (module docstring).
    Returns ``(BuildResult, report_extra)``."""
    budget = Budget.parse(budget_spec)
    search = _Search(builder, dataset, budget)
    result = builder.build()
    score = search.simulate(builder.make_model(result), set())
    steps = [search.step(0, score)]
    info = {"budget": str(budget), "steps": steps, "promoted": [], "met": budget.met(score)}
    if budget.met(score) or not builder.spec.supports_int16():
        if not budget.met(score):
            log.warning("budget %s not met (%.4g) and spec '%s' has no int16", budget, score.value,
                        builder.spec.name)
        info.update(search.scores(score))
        return result, {"auto_mixed": info}
    search.rank(builder.make_model(result))
    order = search.order
    limit = int(builder.opts.max_int16_fraction * len(builder.lowered.nodes))
    top = len(order)
    while top > 1 and len(search.nodes_of(top)) > limit:
        top -= 1
    if top < len(order):
        log.warning("auto mixed precision is limited to %d int16 nodes (max_int16_fraction)", limit)

    def check(n: int):
        promoted = search.nodes_of(n)
        built = builder.build(builder.base_int16 | promoted)
        got = search.simulate(builder.make_model(built), promoted)
        steps.append(search.step(len(promoted), got, layers=n))
        log.info("auto mixed precision: %d layer(s), %d node(s) int16 -> %s = %.4g%s", n, len(promoted),
                 budget.kind, got.value, f", worst sample {got.worst:.4g}" if search.tail else "")
        return promoted, built, got

    if search.tail:
        # simulate the largest promotion first: fake-quant is then interpolated per sample
        # between two simulated configurations that bracket the answer
        promoted, result, score = best = check(top)
        search.anchor(high=True)
        n = 0 if budget.met(score) else top  # nothing to search when even that misses
        while n < top:
            n = search.shortest(n + 1, top)
            if n >= top:
                break
            promoted, result, score = check(n)
            if budget.met(score):
                best = (promoted, result, score)
                break
            search.anchor(high=False)
        promoted, result, score = best
    else:
        # the shortest prefix meeting the budget in fake-quant (binary search), checked in
        # the simulator; fake-quant is optimistic, so the prefix grows by a quarter
        n = search.shortest(1, top)
        while True:
            promoted, result, score = check(n)
            if budget.met(score) or n >= top:
                break
            n = min(top, max(n + 1, int(n * 1.25)))
    info.update(search.scores(score), promoted=sorted(promoted), met=budget.met(score),
                ranking=[{"layer": key, "gain": search.gain[key]} for key in order[:20]])
    if not budget.met(score):
        log.warning("auto mixed precision did not reach %s (best %.4g)", budget, score.value)
    return result, {"auto_mixed": info}


def _progress(x: float, x0: float, x1: float) -> float | None:
    """Where ``x`` lies from ``x0`` (0) to ``x1`` (1), clipped; None when they coincide."""
    if not np.isfinite(x1 - x0) or abs(x1 - x0) < 1e-12:
        return None
    return float(np.clip((x - x0) / (x1 - x0), 0.0, 1.0))


class _Search:
    """The state of :func:`auto_mixed`: the calibration samples it scores (the first
    ``eval_samples``; with a worst-sample bound a pool of ``TAIL_POOL`` times as many),
    the fake-quant model, the ranking and, with a worst-sample bound, the simulator's
    and fake-quant's value of every pool sample in two simulated configurations (the
    anchors: the last that missed the budget, and the largest promotion). Fake-quant
    errs per sample in both directions (optimistic for int8 nodes; int16 fake-quant of
    MiniLM's LayerNorm statistics, rounding ``(x − mean)²`` on rows with a small spread,
    puts some sentences 0.005 below the simulator's cosine), so it is used only to
    interpolate between the anchors."""

    def __init__(self, builder, dataset, budget: Budget) -> None:
        self.builder, self.budget = builder, budget
        self.tail = budget.worst is not None
        k = max(1, int(builder.opts.eval_samples))
        self.pool = [f for _, f in zip(range(TAIL_POOL * k if self.tail else k), dataset)]
        self.refs = _float_refs(builder.float_graph, self.pool)
        self.k = min(k, len(self.pool))
        self.first = list(range(self.k))
        self.fq = None
        self.order: list[str] = []
        self.groups: dict[str, list[str]] = {}
        self.gain: dict[str, float] = {}
        self._last: tuple = ()  # (promoted, per-sample simulator values, aggregate) of the last simulation
        self.low: dict = {}     # key (sample index, or "value") -> (fake-quant, simulator)
        self.high: dict = {}

    # -- scores --------------------------------------------------------------------
    def scores(self, score: Score) -> dict:
        return {"score": score.value, "min": score.worst} if self.tail else {"score": score.value}

    def step(self, promoted: int, score: Score, **extra) -> dict:
        return {"promoted": promoted, **extra, **self.scores(score)}

    def _measure(self, run, idx) -> tuple[Score, dict[int, float]]:
        """Aggregate over the first samples, the worst over ``idx``, per-sample values."""
        outs = {i: run(self.pool[i]) for i in dict.fromkeys(self.first + list(idx))}
        keys = list(outs)
        values = self.budget.per_sample([self.refs[i] for i in keys], [outs[i] for i in keys])
        aggregate = self.budget.score([self.refs[i] for i in self.first], [outs[i] for i in self.first])
        return Score(aggregate, float(np.min(values))), dict(zip(keys, values.tolist()))

    def _fq_run(self, promoted: set[str]):
        enabled = set(self.fq.switches) - promoted
        return lambda feed: self.fq.run(feed, enabled)

    def _fake_quant(self, qmodel):
        if self.fq is None:
            from edgeq.quantize.pipeline.fakequant import FakeQuantModel

            self.fq = FakeQuantModel(qmodel)

    def simulate(self, qmodel, promoted: set[str]) -> Score:
        """The integer simulator's score of ``qmodel`` (``promoted``: the search's int16
        layers in it); with a worst-sample bound on the whole pool."""
        idx = range(len(self.pool)) if self.tail else ()
        score, values = self._measure(qmodel.run, idx)
        self._last = (promoted, values, score.value)
        return score

    def anchor(self, high: bool) -> None:
        """Make the last simulation an anchor of the interpolation."""
        promoted, values, aggregate = self._last
        fq_score, fq_values = self._measure(self._fq_run(promoted), range(len(self.pool)))
        pairs = {i: (fq_values[i], values[i]) for i in values}
        pairs["value"] = (fq_score.value, aggregate)
        (self.high if high else self.low).update(pairs)

    # -- ranking and the fake-quant search -------------------------------------------
    def rank(self, qmodel) -> None:
        """Leave-one-out ranking: what promoting each layer alone gains, all others
        quantized, on the first ``RANK_SAMPLES`` samples (with a worst-sample bound, plus
        the gain on the ``RANK_SAMPLES`` samples the simulator found hardest, which
        counts as much)."""
        self._fake_quant(qmodel)
        if self.tail:
            self.anchor(high=False)  # the unpromoted model, simulated just before
        switches = set(self.fq.switches)
        producer = {o: n.name for n in self.fq.lowered.nodes for o in n.outputs if o}
        key_of: dict[str, str] = {}
        for node in self.fq.lowered.nodes:
            if node.name not in switches or node.op_type not in self.builder.spec.int16_ops | EXPANDED_TO_INT16 or \
                    node.name in self.builder.base_int16:
                continue
            key = layer_key(node.name)
            src = producer.get(node.inputs[0]) if node.inputs else None
            if self.tail and node.op_type in MOVE_OPS and src in key_of:
                # a Reshape/Transpose re-quantizes its producer's output to its own grid:
                # promoting the producer alone gains nothing, so they are one layer
                key = key_of[src]
            key_of[node.name] = key
            self.groups.setdefault(key, []).append(node.name)
        hard = sorted(self._last[1], key=lambda i: (self._last[1][i], i))[:RANK_SAMPLES] if self.tail else []
        mean_idx = self.first[:RANK_SAMPLES]

        def fq_score(off: set[str]) -> Score:
            outs = {i: self.fq.run(self.pool[i], set(self.fq.switches) - off) for i in mean_idx + hard}
            return self.budget.measure([self.refs[i] for i in mean_idx], [outs[i] for i in mean_idx],
                                       [self.refs[i] for i in hard], [outs[i] for i in hard])

        base = fq_score(set())
        for key, members in self.groups.items():
            score = fq_score(set(members))
            self.gain[key] = score.value - base.value + (score.worst - base.worst if self.tail else 0.0)
        self.order = sorted(self.groups, key=lambda key: -self.gain[key])
        log.debug("ranking (%d layers): %s", len(self.order),
                  [(key, round(self.gain[key], 5)) for key in self.order[:30]])

    def nodes_of(self, n: int) -> set[str]:
        return {m for key in self.order[:n] for m in self.groups[key]}

    def estimate(self, n: int) -> Score:
        """The score with the first ``n`` layers promoted: fake-quant's, or with a
        worst-sample bound the simulator's interpolated per sample between the anchors."""
        if not self.tail:
            return self._measure(self._fq_run(self.nodes_of(n)), ())[0]
        fq_score, fq_values = self._measure(self._fq_run(self.nodes_of(n)), range(len(self.pool)))
        fq_values["value"] = fq_score.value
        (x0, y0), (x1, y1) = self.low["value"], self.high["value"]
        overall = _progress(fq_score.value, x0, x1)
        overall = 0.0 if overall is None else overall
        est = {}
        for key, x in fq_values.items():
            (x0, y0), (x1, y1) = self.low[key], self.high[key]
            t = _progress(x, x0, x1)
            # a sample whose fake-quant value hardly moves between the anchors (its error
            # is elsewhere) says nothing about its progress: the aggregate's stands in
            if t is None or abs(x1 - x0) < RELIABLE * abs(self.high["value"][0] - self.low["value"][0]):
                t = overall
            est[key] = y0 + t * (y1 - y0)
        return Score(est.pop("value"), min(est.values()))

    def shortest(self, lo: int, hi: int) -> int:
        """The shortest prefix of ``lo..hi`` layers whose estimate meets the budget
        (binary search; ``hi`` if none does)."""
        lo = min(lo, hi)
        while lo < hi:
            mid = (lo + hi) // 2
            score = self.estimate(mid)
            log.debug("estimate, %d layer(s) int16: %s", mid, score)
            if self.budget.met(score):
                hi = mid
            else:
                lo = mid + 1
        return lo
