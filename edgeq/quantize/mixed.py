"""Mixed precision: per-layer sensitivity and automatic int16 promotion.

* :func:`sensitivity` quantizes the model, then measures the model-output SQNR with
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
or ``"cosine:C"`` (minimum over outputs of the mean per-sample cosine similarity).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from edgeq.errors import UsageError
from edgeq.quantize.compare import cosine, sqnr_db
from edgeq.quantize.rules import INT16_OPS

log = logging.getLogger(__name__)

_STEP = re.compile(r"/t\d+/")
#: ops auto_mixed may promote: those with int16 kernels, and Gelu (expanded, see gelu16.py)
PROMOTABLE = INT16_OPS | {"Gelu"}
#: with a worst-sample bound, the tail is probed on up to this many times eval_samples
#: calibration samples
TAIL_POOL = 4
#: samples (and, with a worst-sample bound, as many hardest ones) of the leave-one-out ranking
RANK_SAMPLES = 4


SYNTAX = ("a budget is an output SQNR in dB ('30' or 'sqnr:30') or a mean cosine ('cosine:0.995'), "
          "optionally followed by ',min:V', the worst single sample's value of the same metric "
          "(e.g. 'cosine:0.996,min:0.993' or 'sqnr:30,min:24')")


@dataclass(frozen=True)
class Score:
    """``value``: the budget's aggregate (SQNR over all samples, or mean cosine), minimum
    over outputs; ``worst``: the lowest per-sample value over samples and outputs."""

    value: float
    worst: float


@dataclass(frozen=True)
class Budget:
    kind: str  # "sqnr" | "cosine"
    value: float
    #: the worst single sample's SQNR (dB) / cosine must reach this too (None: no bound)
    worst: float | None = None

    @classmethod
    def parse(cls, spec) -> "Budget":
        if isinstance(spec, Budget):
            return spec
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return cls("sqnr", float(spec))
        parts = [p.strip() for p in str(spec).strip().lower().split(",")]
        try:
            head, rest = parts[0], parts[1:]
            kind, _, value = head.partition(":") if ":" in head else ("sqnr", "", head)
            kind = kind.strip()
            worst = None
            if len(rest) > 1 or kind not in ("sqnr", "cosine"):
                raise ValueError
            if rest:
                key, _, wvalue = rest[0].partition(":")
                if key.strip() != "min":
                    raise ValueError
                worst = float(wvalue)
            budget = cls(kind, float(value), worst)
            if not all(np.isfinite(v) for v in (budget.value, budget.worst or 0.0)):
                raise ValueError
            if kind == "cosine" and not all(-1.0 < v <= 1.0 for v in (budget.value, budget.worst or 0.0)):
                raise ValueError
        except ValueError:
            raise UsageError(f"bad mixed-precision budget {spec!r}; {SYNTAX}") from None
        return budget

    def _sample(self, ref: dict, out: dict, name: str) -> float:
        if self.kind == "sqnr":
            r = np.asarray(ref[name], np.float64)
            return sqnr_db(float(np.sum(r ** 2)), float(np.sum((np.asarray(out[name], np.float64) - r) ** 2)))
        return cosine(ref[name], out[name])

    def per_sample(self, refs: list[dict], outs: list[dict]) -> np.ndarray:
        """Each sample's value, the minimum over outputs."""
        return np.array([min(self._sample(r, o, name) for name in r) for r, o in zip(refs, outs)])

    def score(self, refs: list[dict], outs: list[dict]) -> float:
        names = list(refs[0])
        per_output = []
        for name in names:
            if self.kind == "sqnr":
                sig = sum(float(np.sum(np.asarray(r[name], np.float64) ** 2)) for r in refs)
                noise = sum(float(np.sum((np.asarray(o[name], np.float64) - r[name]) ** 2))
                            for r, o in zip(refs, outs))
                per_output.append(sqnr_db(sig, noise))
            else:
                per_output.append(float(np.mean([cosine(r[name], o[name]) for r, o in zip(refs, outs)])))
        return min(per_output)

    def measure(self, refs, outs, worst_refs=(), worst_outs=()) -> Score:
        """The aggregate over ``refs``/``outs``; the worst sample over those and the extra
        ``worst_refs``/``worst_outs`` (samples chosen to probe the tail)."""
        samples = self.per_sample(list(refs) + list(worst_refs), list(outs) + list(worst_outs))
        return Score(self.score(refs, outs) if len(refs) else float("nan"),
                     float(np.min(samples)) if len(samples) else float("nan"))

    def met(self, score) -> bool:
        if isinstance(score, Score):
            return score.value >= self.value and (self.worst is None or score.worst >= self.worst)
        return score >= self.value

    def __str__(self) -> str:
        unit = " dB" if self.kind == "sqnr" else ""
        text = f"{self.kind} >= {self.value:g}{unit}"
        return text if self.worst is None else f"{text}, min >= {self.worst:g}{unit}"


def layer_key(node_name: str) -> str:
    """Group per-time-step copies of a node (``lstm/t3/i_pre`` -> ``lstm/t*/i_pre``)."""
    return _STEP.sub("/t*/", node_name)


@dataclass
class Sensitivity:
    """``rows``: (layer, op_type, nodes, SQNR dB with only that layer quantized), most
    sensitive first; ``all_int8_db``: every layer quantized (fake-quant)."""

    rows: list[tuple[str, str, int, float]] = field(default_factory=list)
    all_int8_db: float = float("nan")
    samples: int = 0

    def to_dict(self) -> dict:
        return {"samples": self.samples, "all_int8_sqnr_db": self.all_int8_db,
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


def sensitivity(model, calibration, *, spec=None, samples: int = 8, progress: bool = True,
                **options) -> Sensitivity:
    """Per-layer sensitivity of ``model`` (see module docstring): quantize with
    ``options``, then score each layer alone on the first ``samples`` calibration samples."""
    from edgeq.quantize.api import _as_dataset, quantize
    from edgeq.quantize.fakequant import FakeQuantModel

    options.pop("auto_mixed", None)
    qm = quantize(model, calibration, spec=spec, progress=progress, **options)
    dataset = _as_dataset(calibration, options.get("num_samples"), options.get("seed", 0))
    feeds = [f for _, f in zip(range(samples), dataset)]
    refs = _float_refs(qm.float_graph, feeds)
    fq = FakeQuantModel(qm)
    return layer_sensitivity(fq, feeds, refs, Budget("sqnr", 0.0), progress=progress)


def auto_mixed(builder, dataset, budget_spec):
    """Promote layers to int16 until ``budget_spec`` is met (module docstring).
    Returns ``(BuildResult, report_extra)``."""
    from edgeq.quantize.pipeline import make_model

    budget = Budget.parse(budget_spec)
    search = _Search(builder, dataset, budget)
    result = builder.build()
    score = search.simulate(make_model(builder, result), set())
    steps = [search.step(0, score)]
    info = {"budget": str(budget), "steps": steps, "promoted": [], "met": budget.met(score)}
    if budget.met(score) or not builder.spec.supports_int16():
        if not budget.met(score):
            log.warning("budget %s not met (%.4g) and spec '%s' has no int16", budget, score.value,
                        builder.spec.name)
        info.update(search.scores(score))
        return result, {"auto_mixed": info}
    search.rank(make_model(builder, result))
    order = search.order
    # the shortest prefix of the ranking that meets the budget in fake-quant (binary search),
    # then the integer simulator (the truth) checks it
    limit = int(builder.opts.max_int16_fraction * len(builder.lowered.nodes))
    n = search.shortest(1)
    while True:
        promoted = search.nodes_of(n)
        result = builder.build(builder.base_int16 | promoted)
        score = search.simulate(make_model(builder, result), promoted)
        steps.append(search.step(len(promoted), score, layers=n))
        log.info("auto mixed precision: %d layer(s), %d node(s) int16 -> %s = %.4g%s", n, len(promoted),
                 budget.kind, score.value, f", worst sample {score.worst:.4g}" if search.tail else "")
        if budget.met(score) or n >= len(order):
            break
        if search.tail:
            # fake-quant re-anchored on this simulation (per-sample offsets): search again above n
            nxt = search.shortest(n + 1)
        else:
            # fake-quant is optimistic, so grow by a quarter
            nxt = min(len(order), max(n + 1, int(n * 1.25)))
        if len(search.nodes_of(nxt)) > limit:
            log.warning("auto mixed precision stops at the int16 limit (%d nodes)", limit)
            break
        n = nxt
    info.update(search.scores(score), promoted=sorted(promoted), met=budget.met(score),
                ranking=[{"layer": key, "gain": search.gain[key]} for key in order[:20]])
    if not budget.met(score):
        log.warning("auto mixed precision did not reach %s (best %.4g)", budget, score.value)
    return result, {"auto_mixed": info}


class _Search:
    """The state of :func:`auto_mixed`: the calibration samples it scores (the first
    ``eval_samples``; with a worst-sample bound a pool of ``TAIL_POOL`` times as many),
    the fake-quant model, the ranking and, with a worst-sample bound, each simulated
    sample's offset between the integer simulator and fake-quant in the last
    configuration it was simulated in (fake-quant misjudges single samples: int16
    fake-quant of MiniLM's LayerNorm statistics, rounding ``(x − mean)²`` on rows with a
    small spread, puts some sentences 0.005 below the simulator's cosine)."""

    def __init__(self, builder, dataset, budget: Budget) -> None:
        self.builder, self.budget = builder, budget
        self.tail = budget.worst is not None
        k = max(1, int(builder.opts.eval_samples))
        self.pool = [f for _, f in zip(range(TAIL_POOL * k if self.tail else k), dataset)]
        self.refs = _float_refs(builder.float_graph, self.pool)
        self.k = min(k, len(self.pool))
        self.first = list(range(self.k))
        self.fq = None
        self.offsets: dict[int, float] = {}  # sample -> simulator minus fake-quant value
        self.mean_offset = 0.0               # the same for the aggregate over `first`
        self.order: list[str] = []
        self.groups: dict[str, list[str]] = {}
        self.gain: dict[str, float] = {}

    # -- scores --------------------------------------------------------------------
    def scores(self, score: Score) -> dict:
        return {"score": score.value, "min": score.worst} if self.tail else {"score": score.value}

    def step(self, promoted: int, score: Score, **extra) -> dict:
        return {"promoted": promoted, **extra, **self.scores(score)}

    def _measure(self, run, mean_idx, tail_idx=()) -> tuple[Score, dict]:
        outs = {i: run(self.pool[i]) for i in dict.fromkeys(list(mean_idx) + list(tail_idx))}
        score = self.budget.measure([self.refs[i] for i in mean_idx], [outs[i] for i in mean_idx],
                                    [self.refs[i] for i in tail_idx], [outs[i] for i in tail_idx])
        return score, outs

    def _per_sample(self, outs: dict) -> dict[int, float]:
        idx = list(outs)
        values = self.budget.per_sample([self.refs[i] for i in idx], [outs[i] for i in idx])
        return dict(zip(idx, values.tolist()))

    def _fq_run(self, promoted: set[str]):
        enabled = set(self.fq.switches) - promoted
        return lambda feed: self.fq.run(feed, enabled)

    def _hardest(self, promoted: set[str], count: int) -> list[int]:
        """The ``count`` pool samples past the first ``k`` with the lowest estimate
        (fake-quant plus the sample's simulator offset where one is known)."""
        rest = range(self.k, len(self.pool))
        if not self.tail or not rest:
            return []
        _, outs = self._measure(self._fq_run(promoted), [], rest)
        est = {i: v + self.offsets.get(i, 0.0) for i, v in self._per_sample(outs).items()}
        return sorted(est, key=lambda i: (est[i], i))[:count]

    def simulate(self, qmodel, promoted: set[str]) -> Score:
        """The integer simulator's score of ``qmodel`` (``promoted``: the search's int16
        layers in it); with a worst-sample bound also on the samples hardest for it, and
        the offsets are re-anchored on this configuration."""
        if not self.tail:
            return self._measure(qmodel.run, self.first)[0]
        if self.fq is None:
            from edgeq.quantize.fakequant import FakeQuantModel

            self.fq = FakeQuantModel(qmodel)
        score, outs = self._measure(qmodel.run, self.first, self._hardest(promoted, self.k))
        fq_score, fq_outs = self._measure(self._fq_run(promoted), self.first, list(outs))
        sim, fake = self._per_sample(outs), self._per_sample(fq_outs)
        self.offsets.update({i: sim[i] - fake[i] for i in sim})
        self.mean_offset = score.value - fq_score.value
        return score

    # -- ranking and the fake-quant search -------------------------------------------
    def rank(self, qmodel) -> None:
        """Leave-one-out ranking: what promoting each layer alone gains, all others
        quantized, on the first ``RANK_SAMPLES`` samples (with a worst-sample bound, plus
        the gain on the ``RANK_SAMPLES`` hardest ones, which counts as much)."""
        if self.fq is None:
            from edgeq.quantize.fakequant import FakeQuantModel

            self.fq = FakeQuantModel(qmodel)
        ops = {n.name: n.op_type for n in self.fq.lowered.nodes}
        for sw in self.fq.switches:
            if ops.get(sw) in PROMOTABLE and sw not in self.builder.base_int16:
                self.groups.setdefault(layer_key(sw), []).append(sw)
        mean_idx, tail_idx = self.first[:RANK_SAMPLES], self._hardest(set(), RANK_SAMPLES)
        base = self._measure(self._fq_run(set()), mean_idx, tail_idx)[0]
        for key, members in self.groups.items():
            score = self._measure(self._fq_run(set(members)), mean_idx, tail_idx)[0]
            self.gain[key] = score.value - base.value + (score.worst - base.worst if self.tail else 0.0)
        self.order = sorted(self.groups, key=lambda key: -self.gain[key])
        log.debug("ranking (%d layers): %s", len(self.order),
                  [(key, round(self.gain[key], 5)) for key in self.order[:30]])

    def nodes_of(self, n: int) -> set[str]:
        return {m for key in self.order[:n] for m in self.groups[key]}

    def estimate(self, n: int) -> Score:
        """Fake-quant's score with the first ``n`` layers promoted; with a worst-sample
        bound re-anchored on the last simulation, the worst over the simulated samples."""
        if not self.tail:
            return self._measure(self._fq_run(self.nodes_of(n)), self.first)[0]
        score, outs = self._measure(self._fq_run(self.nodes_of(n)), self.first, list(self.offsets))
        worst = min(v + self.offsets[i] for i, v in self._per_sample(outs).items())
        return Score(score.value + self.mean_offset, worst)

    def shortest(self, lo: int) -> int:
        """The shortest prefix of at least ``lo`` layers whose estimate meets the budget
        (binary search; every layer if none does)."""
        hi = len(self.order)
        lo = min(lo, hi)
        while lo < hi:
            mid = (lo + hi) // 2
            score = self.estimate(mid)
            log.debug("fake-quant, %d layer(s) int16: %s", mid, score)
            if self.budget.met(score):
                hi = mid
            else:
                lo = mid + 1
        return lo
