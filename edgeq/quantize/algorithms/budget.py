"""Mixed-precision budgets: what ``auto_mixed`` must reach, parsed from a number or a
string (``"sqnr:30"``, ``"cosine:0.996,min:0.993"``), and how outputs are scored against
it with :mod:`edgeq.metrics` (SQNR over all samples, or mean per-sample cosine; with
``",min:V"`` the worst single sample must reach ``V`` too)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.errors import UsageError
from edgeq.metrics import cosine, sqnr_db_from_powers

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
        # the display form (str(budget): "sqnr >= 30 dB, min >= 24 dB") parses back too,
        # so a budget recorded in a report or a saved model can be used again
        text = str(spec).strip().lower().replace(">=", ":").replace(" db", "")
        parts = [p.strip() for p in text.split(",")]
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
            return sqnr_db_from_powers(float(np.sum(r ** 2)), float(np.sum((np.asarray(out[name], np.float64) - r) ** 2)))
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
                per_output.append(sqnr_db_from_powers(sig, noise))
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
