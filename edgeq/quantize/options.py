"""Options of :func:`edgeq.quantize` (also the ``quantization:`` section of edgeq.yaml).

The defaults are the best general choice measured on the zoo (docs/quantization.md,
"Defaults"): MSE ranges for int8 activations, min/max for int16, MSE-clipped per-channel
weights, empirical bias correction, the lowering passes' int16 hints (LSTM cell state,
power spectra), no automatic mixed precision unless a budget is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from edgeq.errors import UsageError


@dataclass
class QuantizeOptions:
    #: observer for int8 activations: minmax | percentile | mse | entropy (or a plugin's)
    method: str = "mse"
    #: percentile for method="percentile"
    percentile: float = 99.99
    #: observer for int16 activations
    method16: str = "minmax"
    #: regexes (re.search) over node names / output tensor names to run in int16 (16x8)
    int16: list[str] = field(default_factory=list)
    #: op types to run in int16
    int16_ops: list[str] = field(default_factory=list)
    #: regexes of nodes to leave in float (only where the spec allows a fallback)
    float_nodes: list[str] = field(default_factory=list)
    #: budget for automatic int16 promotion: an output SQNR in dB (30 or "sqnr:30") or a
    #: mean cosine ("cosine:0.995"), optionally with a bound on the worst sample's value
    #: ("cosine:0.996,min:0.993"); the most sensitive layers are promoted until it is met
    auto_mixed: object = None
    #: evaluation samples used by auto_mixed / sensitivity (taken from the calibration data)
    eval_samples: int = 16
    #: at most this fraction of the nodes is promoted by auto_mixed
    max_int16_fraction: float = 1.0
    #: weight clipping: "mse" (per-channel search) or "max"
    weight_clip: str = "mse"
    #: weight rounding: "gptq" (data-aware, edgeq/quantize/algorithms/gptq.py), "adaround"
    #: (layer-wise optimised rounding, edgeq/quantize/algorithms/adaround.py) or "nearest"
    weight_rounding: str = "gptq"
    #: calibration samples AdaRound streams through the model, and its Adam iterations
    adaround_samples: int = 64
    adaround_iters: int = 300
    bias_correction: bool = True
    #: cross-layer equalization of activation ranges (edgeq/quantize/algorithms/equalize.py)
    equalize: bool = True
    #: apply the lowering passes' int16 hints (LSTM cell state, power spectra, LayerNorm
    #: statistics)
    int16_hints: bool = True
    #: keep a transformer's residual stream (the Adds and FullyConnected outputs around
    #: each LayerNorm) in int16; False gives int8 everywhere but in the hints above
    int16_residual: bool = True
    #: carry each residual stream feeding a LayerNorm as h / D, a per-channel power-of-two
    #: D shrinking its outlier channels (edgeq/quantize/algorithms/residual_scaling.py): "auto" (on
    #: when the stream is int8, i.e. int16_residual=False), True or False
    residual_scaling: object = "auto"
    num_samples: int | None = None
    seed: int = 0
    cache_dir: str | None = None
    use_cache: bool = True
    progress: bool = True
    threads: int | None = None

    @classmethod
    def from_kwargs(cls, options: dict) -> "QuantizeOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown quantize option(s) {unknown}; valid options: {', '.join(sorted(known))}")
        opts = cls(**options)
        for name in ("int16", "int16_ops", "float_nodes"):
            value = getattr(opts, name)
            if value is None:
                value = []
            elif isinstance(value, str):
                value = [value]
            setattr(opts, name, list(value))
        for pattern in opts.int16 + opts.float_nodes:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise UsageError(f"bad regular expression {pattern!r}: {exc}") from None
        if opts.weight_clip not in ("mse", "max"):
            raise UsageError(f"weight_clip must be 'mse' or 'max', got {opts.weight_clip!r}")
        from edgeq.quantize.algorithms import WEIGHT_ROUNDING

        if opts.weight_rounding not in WEIGHT_ROUNDING:
            *first, last = (repr(n) for n in WEIGHT_ROUNDING)
            raise UsageError(f"weight_rounding must be {', '.join(first)} or {last}, "
                             f"got {opts.weight_rounding!r}")
        if int(opts.adaround_samples) < 1 or int(opts.adaround_iters) < 1:
            raise UsageError(f"adaround_samples and adaround_iters must be >= 1, got "
                             f"{opts.adaround_samples!r} and {opts.adaround_iters!r}")
        if opts.residual_scaling not in (True, False, "auto"):
            raise UsageError(f"residual_scaling must be true, false or 'auto', got {opts.residual_scaling!r}")
        if opts.auto_mixed is not None:
            from edgeq.quantize.algorithms.budget import Budget

            opts.auto_mixed = Budget.parse(opts.auto_mixed)  # raises UsageError when malformed
        return opts

    def scales_residual(self, wide_in_float: bool = False) -> bool:
        """Whether the residual-scaling pass runs ("auto": when the stream is int8, i.e.
        ``int16_residual=False`` or a spec with ``wide_in_float``, whose stream is int8:
        a float stream would put the FullyConnected layers writing it in float)."""
        if self.residual_scaling == "auto":
            return not self.int16_residual or wide_in_float
        return bool(self.residual_scaling)

    def observer_options(self) -> dict:
        return {"percentile": self.percentile} if self.method == "percentile" else {}

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in ("cache_dir", "progress", "threads", "use_cache")}
        if out["auto_mixed"] is not None:
            out["auto_mixed"] = str(out["auto_mixed"])
        return out


def match_nodes(graph, patterns: list[str], op_types: list[str] = ()) -> set[str]:
    """Names of nodes whose name or an output name matches a regex, or whose op type is listed."""
    regexes = [re.compile(p) for p in patterns]
    ops = set(op_types)
    out = set()
    for n in graph.nodes:
        if n.op_type in ops or any(r.search(n.name) or any(r.search(o) for o in n.outputs if o)
                                   for r in regexes):
            out.add(n.name)
    return out
