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


@dataclass(frozen=True)
class Budget:
    kind: str  # "sqnr" | "cosine"
    value: float

    @classmethod
    def parse(cls, spec) -> "Budget":
        if isinstance(spec, Budget):
            return spec
        if isinstance(spec, (int, float)):
            return cls("sqnr", float(spec))
        text = str(spec).strip().lower()
        kind, _, value = text.partition(":") if ":" in text else ("sqnr", "", text)
        try:
            budget = cls(kind, float(value))
        except ValueError:
            budget = None
        if budget is None or kind not in ("sqnr", "cosine"):
            raise UsageError(f"bad mixed-precision budget {spec!r}; use an SQNR in dB (e.g. 30 or "
                             f"'sqnr:30') or a mean cosine (e.g. 'cosine:0.995')")
        return budget

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

    def met(self, score: float) -> bool:
        return score >= self.value

    def __str__(self) -> str:
        return f"{self.kind} >= {self.value:g}" + (" dB" if self.kind == "sqnr" else "")


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
    from edgeq.quantize.fakequant import FakeQuantModel
    from edgeq.quantize.pipeline import make_model

    budget = Budget.parse(budget_spec)
    opts = builder.opts
    feeds = [f for _, f in zip(range(opts.eval_samples), dataset)]
    refs = _float_refs(builder.float_graph, feeds)

    def evaluate(result) -> float:
        qm = make_model(builder, result)
        return budget.score(refs, [qm.run(f) for f in feeds])

    result = builder.build()
    score = evaluate(result)
    steps = [{"promoted": 0, "score": score}]
    info = {"budget": str(budget), "steps": steps, "promoted": [], "met": budget.met(score)}
    if budget.met(score) or not builder.spec.supports_int16():
        if not budget.met(score):
            log.warning("budget %s not met (%.4g) and spec '%s' has no int16", budget, score, builder.spec.name)
        info["score"] = score
        return result, {"auto_mixed": info}
    fq = FakeQuantModel(make_model(builder, result))
    ops = {n.name: n.op_type for n in fq.lowered.nodes}
    groups: dict[str, list[str]] = {}
    for sw in fq.switches:
        if ops.get(sw) in PROMOTABLE and sw not in builder.base_int16:
            groups.setdefault(layer_key(sw), []).append(sw)
    every = set(fq.switches)

    def fq_score(off: set[str], fs, rs) -> float:
        return budget.score(rs, [fq.run(f, every - off) for f in fs])

    # rank layers by what promoting each alone gains, all others quantized (leave one out)
    k = min(4, len(feeds))
    base = fq_score(set(), feeds[:k], refs[:k])
    gain = {key: fq_score(set(members), feeds[:k], refs[:k]) - base for key, members in groups.items()}
    order = sorted(groups, key=lambda key: -gain[key])

    def nodes_of(n: int) -> set[str]:
        return {m for key in order[:n] for m in groups[key]}

    # the shortest prefix of the ranking that meets the budget in fake-quant (binary search)
    lo, hi = 1, len(order)
    if not budget.met(fq_score(nodes_of(hi), feeds, refs)):
        lo = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if budget.met(fq_score(nodes_of(mid), feeds, refs)):
            hi = mid
        else:
            lo = mid + 1
    # confirm with the integer simulator; fake-quant is optimistic, so grow by a quarter
    limit = int(opts.max_int16_fraction * len(builder.lowered.nodes))
    n = lo
    while True:
        promoted = nodes_of(n)
        result = builder.build(builder.base_int16 | promoted)
        score = evaluate(result)
        steps.append({"promoted": len(promoted), "layers": n, "score": score})
        log.info("auto mixed precision: %d layer(s), %d node(s) int16 -> %s = %.4g",
                 n, len(promoted), budget.kind, score)
        if budget.met(score) or n >= len(order):
            break
        nxt = min(len(order), max(n + 1, int(n * 1.25)))
        if len(nodes_of(nxt)) > limit:
            log.warning("auto mixed precision stops at the int16 limit (%d nodes)", limit)
            break
        n = nxt
    info.update(promoted=sorted(promoted), met=budget.met(score), score=score,
                ranking=[{"layer": key, "gain": gain[key]} for key in order[:20]])
    if not budget.met(score):
        log.warning("auto mixed precision did not reach %s (best %.4g)", budget, score)
    return result, {"auto_mixed": info}
