"""Mixed precision: per-layer sensitivity and automatic int16 promotion.

* :func:`sensitivity` quantizes the model, then measures the model-output SQNR with
  *only one layer* quantized (weights and output activations, every other node float),
  for every layer, with the switchable fake-quant model (:mod:`.fakequant`). Nodes that
  an unrolled loop repeats per time step (``.../t<k>/...``) form one layer.
* :func:`auto_mixed` promotes the most sensitive layers (lowest single-layer SQNR) to
  int16 in growing batches (1, 1, 2, 4 … layers), rebuilding the QuantizedGraph and
  scoring it with the *integer simulator* after each batch, until the budget is met or
  ``max_int16_fraction`` of the nodes is int16. The report always says what was
  promoted and whether the budget was met.

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
    """Promote sensitive layers to int16 until ``budget_spec`` is met (module docstring).
    Returns ``(BuildResult, report_extra)``."""
    from edgeq.quantize.fakequant import FakeQuantModel
    from edgeq.quantize.pipeline import make_model

    budget = Budget.parse(budget_spec)
    opts = builder.opts
    feeds = [f for _, f in zip(range(opts.eval_samples), dataset)]
    refs = _float_refs(builder.float_graph, feeds)
    promoted: set[str] = set()

    def evaluate(result) -> float:
        qm = make_model(builder, result)
        return budget.score(refs, [qm.run(f) for f in feeds])

    result = builder.build()
    score = evaluate(result)
    steps = [{"promoted": 0, "score": score}]
    info = {"budget": str(budget), "steps": steps, "promoted": [], "met": budget.met(score)}
    if not budget.met(score):
        if not builder.spec.supports_int16():
            log.warning("budget %s not met (%.4g) and spec '%s' has no int16", budget, score, builder.spec.name)
            return result, {"auto_mixed": info}
        fq = FakeQuantModel(make_model(builder, result))
        # ranking needs fewer samples than the budget check
        k = min(8, len(feeds))
        sens = layer_sensitivity(fq, feeds[:k], refs[:k], Budget("sqnr", 0.0))
        groups: dict[str, list[str]] = {}
        for sw in fq.switches:
            groups.setdefault(layer_key(sw), []).append(sw)
        ops = {n.name: n.op_type for n in builder.lowered.nodes}
        order = [k for k, *_ in sens.rows
                 if k in groups and any(ops.get(n) in INT16_OPS and n not in builder.base_int16
                                        for n in groups[k])]
        limit = int(opts.max_int16_fraction * len(builder.lowered.nodes))
        batch, i = 1, 0
        while not budget.met(score) and i < len(order):
            chosen = order[i:i + batch]
            new = {n for k in chosen for n in groups[k]}
            if len(promoted | new | builder.base_int16) > limit:
                log.warning("auto mixed precision stops at the int16 limit (%d nodes)", limit)
                break
            promoted |= new
            i += len(chosen)
            result = builder.build(builder.base_int16 | promoted)
            score = evaluate(result)
            steps.append({"promoted": len(promoted), "layers": chosen, "score": score})
            log.info("auto mixed precision: %d node(s) int16 -> %s = %.4g", len(promoted), budget.kind, score)
            batch = batch * 2 if len(steps) > 2 else batch
        info.update(promoted=sorted(promoted), met=budget.met(score), score=score,
                    sensitivity=sens.to_dict()["layers"][:20])
        if not budget.met(score):
            log.warning("auto mixed precision did not reach %s (best %.4g)", budget, score)
    info["score"] = score
    return result, {"auto_mixed": info}
