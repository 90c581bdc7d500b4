"""AdaRound: optimise the rounding of int8 weights layer by layer.

Nagel et al. 2020, *Up or Down? Adaptive Rounding for Post-Training Quantization*.
Rounding each weight to nearest minimises the weight error, not the layer's output
error; AdaRound chooses, per weight, ``floor`` or ``floor + 1`` to minimise

    ``(1/R) Σ_rows ‖W x_f − W̃ x_q‖²  +  λ Σ (1 − |2h(V) − 1|^β)``

with ``W̃ = s · clip(⌊W/s⌋ + h(V), −127, 127)``, the rectified sigmoid
``h(V) = clip(σ(V)(ζ − γ) + γ, 0, 1)`` (ζ = 1.1, γ = −0.1, eq. 23), ``x_f`` the layer's
input in the float model and ``x_q`` its input in the model quantized so far (the
"asymmetric" reconstruction of §5, which lets a layer absorb upstream error), rows the
im2col rows of all calibration samples, ``β`` annealed from 20 to 2 after a warm-up
without the regulariser (§3.3, as in the reference implementations), Adam on ``V``.
At the end ``h`` is rounded to {0, 1} (``V ≥ 0``). The scale ``s`` (per output channel)
is the caller's: AdaRound only decides the rounding.

Speed (numpy, no autograd): the loss is quadratic in ``W̃``, so the inputs enter only
through the moments ``C = Σ x_q x_qᵀ`` and ``M = Σ x_f x_qᵀ`` (``[K, K]`` per group,
``K = I/g · kH · kW``), accumulated once over every row, and the exact full-data
gradient is ``(2/R)(W̃ C − W M)``, one ``[O, K] × [K, K]`` product per iteration for
all output channels at once. When a layer has fewer rows than ``K`` (a classifier
head on a few samples) the rows themselves are kept and the gradient is computed
from them, which is cheaper. The reconstruction term of output channel ``o`` is
divided by ``s_o² · tr(C)/(K·R)`` (the output error one weight step would cause), so
that ``λ`` weighs the same against it in every layer.

The graph driver (:func:`adaround_graph`) streams calibration samples through the
float graph and through a copy in which every processed layer already has its
AdaRound weights (and, for W8A8, every quantized activation is fake-quantized with
its final params), layer by layer in topological order, keeping only live tensors.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from edgeq.errors import QuantizationError
from edgeq.quantize.arith.scheme import WEIGHT_QMAX, round_half_away
from edgeq.types import QuantParams

log = logging.getLogger(__name__)

ZETA, GAMMA = 1.1, -0.1
#: buffered elements (rows x K) per moment update
CHUNK = 1 << 20


@dataclass(frozen=True)
class AdaRoundConfig:
    iters: int = 300
    lr: float = 0.03
    #: weight λ of the rounding regulariser against the normalised reconstruction term
    #: (a weight step's error = 1); 0.3-3 measured equal on MobileNetV2, 0.01 (the paper's
    #: value for an unnormalised loss) leaves ``h`` undecided and loses ~1 dB
    reg_weight: float = 1.0
    beta_start: float = 20.0
    beta_end: float = 2.0
    #: fraction of the iterations run without the regulariser
    warmup: float = 0.2
    #: calibration samples streamed through the model (memory grows with it)
    samples: int = 64
    #: also remove the mean output error left after rounding through the bias
    #: (least squares in b: ``b += mean(W x_f − W̃ x_q)``, the empirical bias correction
    #: of Nagel et al. 2019 §4.2 taken against the quantized-model input)
    correct_bias: bool = True
    #: layers with fewer im2col rows than ``min_rows`` · K keep round-to-nearest
    #: (their rounding would fit the calibration samples, not the data)
    min_rows: float = 1.0
    #: im2col rows (output positions) per layer, drawn at random evenly over the
    #: samples; the moments of ~10⁴ rows pin down a [K, K] matrix for K up to ~10³
    max_rows: int = 16384
    seed: int = 0


@dataclass
class LayerMoments:
    """Input statistics of one layer, ``[g, K, K]`` per group (see module docstring)."""

    groups: int
    k: int
    rows: int = 0
    cqq: np.ndarray | None = None   # Σ x_q x_qᵀ
    cfq: np.ndarray | None = None   # Σ x_f x_qᵀ
    cff: np.ndarray | None = None   # Σ x_f x_fᵀ (for the reported errors only)
    #: kept instead of moments when rows < K: [g, K, rows] each
    xf: list = field(default_factory=list)
    xq: list = field(default_factory=list)
    keep_rows: bool = False
    #: Σ x_f and Σ x_q over the rows, [g, K] (for the bias correction)
    sum_f: np.ndarray | None = None
    sum_q: np.ndarray | None = None
    _pending: list = field(default_factory=list)
    _pending_rows: int = 0

    def add(self, xf: np.ndarray, xq: np.ndarray) -> None:
        """Add rows ``[g, K, r]`` of the float and the quantized-model input."""
        self.rows += xf.shape[2]
        sf, sq = xf.sum(axis=2, dtype=np.float64), xq.sum(axis=2, dtype=np.float64)
        self.sum_f = sf if self.sum_f is None else self.sum_f + sf
        self.sum_q = sq if self.sum_q is None else self.sum_q + sq
        if self.keep_rows:
            self.xf.append(xf.astype(np.float64))
            self.xq.append(xq.astype(np.float64))
            return
        # rows are buffered and multiplied in chunks: one [K, R] x [R, K] product over
        # many samples is several times faster than one per sample when R is small
        self._pending.append((xf, xq))
        self._pending_rows += xf.shape[2]
        if self._pending_rows * self.k * self.groups >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Fold the buffered rows into the moments (float64 sums)."""
        if not self._pending:
            return
        xf = np.concatenate([a for a, _ in self._pending], axis=2).astype(np.float64)
        xq = np.concatenate([b for _, b in self._pending], axis=2).astype(np.float64)
        self._pending, self._pending_rows = [], 0
        qt = np.swapaxes(xq, 1, 2)
        parts = (np.matmul(xq, qt), np.matmul(xf, qt), np.matmul(xf, np.swapaxes(xf, 1, 2)))
        if self.cqq is None:
            self.cqq, self.cfq, self.cff = parts
        else:
            self.cqq += parts[0]
            self.cfq += parts[1]
            self.cff += parts[2]


def conv_rows(node, x: np.ndarray, weight_shape) -> np.ndarray:
    """im2col rows ``[g, I/g·kH·kW, OH·OW·N]`` of a 2-D Conv input ``x [N, C, H, W]``."""
    from numpy.lib.stride_tricks import as_strided

    from edgeq.interp.float_ops._window import pad_spatial, resolve_window

    g = int(node.attrs.get("group", 1))
    n, c = x.shape[:2]
    win = resolve_window(node, x.shape[2:], weight_shape[2:])
    xp = pad_spatial(x, win.pads_begin, win.pads_end)
    sn, sc, sh, sw = xp.strides
    (dh, dw), (th, tw) = win.dilations, win.strides
    view = as_strided(xp, shape=(n, c) + win.kernel + win.out,
                      strides=(sn, sc, sh * dh, sw * dw, sh * th, sw * tw), writeable=False)
    cols = view.transpose(1, 2, 3, 0, 4, 5).reshape(g, (c // g) * int(np.prod(win.kernel)), -1)
    return np.ascontiguousarray(cols)


def layer_rows(node, x: np.ndarray, weight_shape) -> np.ndarray:
    """Rows ``[g, K, r]`` of a Conv or FullyConnected input."""
    if node.op_type == "FullyConnected":
        return x.reshape(-1, x.shape[-1]).T[None]
    return conv_rows(node, x, weight_shape)


def supported(node, graph) -> str | None:
    """Why ``node`` cannot be AdaRounded, or None."""
    if node.op_type not in ("Conv", "FullyConnected"):
        return f"op type {node.op_type}"
    w = graph.const(node.inputs[1]) if len(node.inputs) > 1 else None
    if w is None:
        return "weights are not a constant"
    if node.op_type == "Conv" and w.ndim != 4:
        return f"{w.ndim - 2}-D convolution"
    if node.op_type == "FullyConnected" and w.ndim != 2:
        return "weights are not [out, in]"
    return None


# -- the optimisation ----------------------------------------------------------------
#: |V| below which the rectified sigmoid is not clipped: σ(V)(ζ-γ)+γ ∈ (0, 1)
_V_LINEAR = float(np.log(-ZETA / GAMMA))


class _Objective:
    """The reconstruction term as a function of ``h [g, og, K]`` (``W̃ = s·(⌊W/s⌋ + h)``):
    ``grad(h) = a ∘ (h C + c0)`` (moments) or ``a ∘ ((h X_q + c1) X_qᵀ)`` (rows), and the
    normalised per-channel error of integer weights ``q`` for the report."""

    def __init__(self, wg, s, base, moments: LayerMoments, norm) -> None:
        rows = max(moments.rows, 1)
        self.wg, self.s, self.rows, self.norm = wg, s, rows, norm
        self.a = (2.0 * s * s / (rows * norm[..., None])).astype(np.float32)
        self.m = moments
        if moments.keep_rows:
            self.xq = np.concatenate(moments.xq, axis=2)
            self.target = np.matmul(wg, np.concatenate(moments.xf, axis=2))  # W X_f
            self.xq32 = self.xq.astype(np.float32)
            self.xqt32 = np.ascontiguousarray(np.swapaxes(self.xq32, 1, 2))
            self.c = (np.matmul(base, self.xq) - self.target / s).astype(np.float32)
        else:
            self.p = np.matmul(wg, moments.cfq)  # W M, M = Σ x_f x_qᵀ
            self.wcw = np.sum(np.matmul(wg, moments.cff) * wg, axis=2)  # Σ ‖W x_f‖²
            self.c32 = moments.cqq.astype(np.float32)
            self.c = (np.matmul(base, moments.cqq) - self.p / s).astype(np.float32)

    def grad(self, h: np.ndarray, out: np.ndarray) -> np.ndarray:
        if self.m.keep_rows:
            e = np.matmul(h, self.xq32)
            e += self.c
            np.matmul(e, self.xqt32, out=out)
        else:
            np.matmul(h, self.c32, out=out)
            out += self.c
        out *= self.a
        return out

    def error(self, q: np.ndarray) -> np.ndarray:
        wt = self.s * q
        if self.m.keep_rows:
            e = np.matmul(wt, self.xq) - self.target
            err = np.sum(e * e, axis=2)
        else:
            err = self.wcw - 2 * np.sum(wt * self.p, axis=2) + \
                np.sum(np.matmul(wt, self.m.cqq) * wt, axis=2)
        return np.maximum(err, 0.0) / (self.rows * self.norm)

    def gain(self, q_new: np.ndarray, q_old: np.ndarray) -> np.ndarray:
        """Per channel ``error(q_old) − error(q_new)``, computed from the difference of the
        two weights so that it does not cancel against the output power."""
        if self.m.keep_rows:
            return self.error(q_old) - self.error(q_new)
        new, old = self.s * q_new, self.s * q_old
        delta = new - old
        diff = -2 * np.sum(delta * self.p, axis=2) + \
            np.sum(np.matmul(delta, self.m.cqq) * (new + old), axis=2)
        return -diff / (self.rows * self.norm)


def optimize_rounding(w: np.ndarray, scale: np.ndarray, moments: LayerMoments,
                      cfg: AdaRoundConfig = AdaRoundConfig()) -> tuple[np.ndarray, dict]:
    """AdaRound the weight ``w [O, ...]`` with per-output-channel ``scale [O]`` (or one
    scale) given its layer's input ``moments``; returns ``(int8 weights, stats)`` with
    ``stats`` the normalised output error of round-to-nearest and of the result."""
    o, g, k = w.shape[0], moments.groups, moments.k
    og = o // g
    s = np.broadcast_to(np.asarray(scale, np.float64).reshape(-1), (o,)).reshape(g, og, 1)
    wg = w.astype(np.float64).reshape(g, og, k)
    ws = wg / s
    rtn = np.clip(round_half_away(ws), -WEIGHT_QMAX, WEIGHT_QMAX)
    base = np.floor(ws)
    rest = ws - base
    # weights past the int8 range (MSE clipping) are frozen at the bound: h = 0 there,
    # and the rectified sigmoid's zero derivative keeps them so
    frozen = (base >= WEIGHT_QMAX) | (base < -WEIGHT_QMAX)
    base = np.clip(base, -WEIGHT_QMAX, WEIGHT_QMAX)
    if moments.keep_rows:
        power = sum(np.einsum("gkr,gkr->g", x, x) for x in moments.xq)
    else:
        power = np.trace(moments.cqq, axis1=1, axis2=2)
    # per output channel: the error one weight step causes on an input of average power
    # (a group whose quantized input is all zeros, e.g. a channel below one activation
    # step, takes the layer's average instead of dividing by ~0)
    power = power / (k * max(moments.rows, 1))
    power = np.maximum(power, 1e-3 * power.mean() + 1e-30)
    norm = (s[..., 0] ** 2) * power[:, None]
    obj = _Objective(wg, s, base, moments, norm)
    ratio = np.clip((rest - GAMMA) / (ZETA - GAMMA), 1e-6, 1 - 1e-6)
    v = np.where(frozen, -4 * _V_LINEAR, np.log(ratio / (1 - ratio))).astype(np.float32)
    h, sig, dh, grad, tmp = (np.empty_like(v) for _ in range(5))
    m1 = np.zeros_like(v)
    m2 = np.zeros_like(v)
    b1, b2, eps = 0.9, 0.999, 1e-8
    warm = int(cfg.warmup * cfg.iters)
    for t in range(1, cfg.iters + 1):
        np.negative(v, out=sig)
        np.exp(sig, out=sig)
        sig += 1.0
        np.reciprocal(sig, out=sig)
        np.multiply(sig, ZETA - GAMMA, out=h)
        h += GAMMA
        np.clip(h, 0.0, 1.0, out=h)
        np.subtract(1.0, sig, out=dh)
        dh *= sig
        dh *= (ZETA - GAMMA) * (np.abs(v) < _V_LINEAR)
        obj.grad(h, grad)
        if t > warm:
            rel = (t - warm) / max(cfg.iters - warm, 1)
            beta = cfg.beta_end + (cfg.beta_start - cfg.beta_end) * (1 - rel)
            # d/dh λ(1 − |2h−1|^β) = −2λβ (2h−1)|2h−1|^(β−2)
            np.multiply(h, 2.0, out=tmp)
            tmp -= 1.0
            d = np.abs(tmp)
            np.power(d, beta - 2.0, out=d)
            tmp *= d
            tmp *= 2.0 * cfg.reg_weight * beta
            grad -= tmp
        grad *= dh
        m1 *= b1
        m1 += (1 - b1) * grad
        np.multiply(grad, grad, out=grad)
        m2 *= b2
        m2 += (1 - b2) * grad
        np.sqrt(m2, out=tmp)
        tmp += eps * np.sqrt(1 - b2 ** t)
        np.divide(m1, tmp, out=tmp)
        tmp *= cfg.lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        v -= tmp
    q = np.clip(base + (v >= 0), -WEIGHT_QMAX, WEIGHT_QMAX)
    # channels are independent: keep round-to-nearest where it reconstructs better
    gain = obj.gain(q, rtn)
    q = np.where((gain < 0)[..., None], rtn, q)
    e_rtn = obj.error(rtn)
    e_ada = np.maximum(e_rtn - np.maximum(gain, 0.0), 0.0)
    stats = {"rows": int(moments.rows), "k": int(k), "err_rtn": float(np.mean(e_rtn)),
             "err_adaround": float(np.mean(e_ada)), "flipped": float(np.mean(q != rtn))}
    return q.reshape(w.shape).astype(np.int8), stats


# -- the graph driver ----------------------------------------------------------------
@dataclass
class AdaRoundResult:
    #: weight tensor name -> (int8 weights, their QuantParams)
    weights: dict[str, tuple[np.ndarray, QuantParams]] = field(default_factory=dict)
    #: node name -> stats of :func:`optimize_rounding`, or {"skipped": reason}
    layers: dict[str, dict] = field(default_factory=dict)
    #: node name -> shift [O] to add to its bias (``cfg.correct_bias``)
    bias_shift: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0

    def report(self) -> dict:
        done = [s for s in self.layers.values() if "err_adaround" in s]
        ratios = [s["err_adaround"] / s["err_rtn"] for s in done if s["err_rtn"] > 0]
        return {"layers": len(done), "skipped": {n: s["skipped"] for n, s in self.layers.items()
                                                  if "skipped" in s},
                # layer output error after AdaRound / with round-to-nearest, averaged
                "mean_error_ratio": round(float(np.mean(ratios)), 4) if ratios else 1.0,
                "seconds": round(self.seconds, 2)}


def _fake_quant(x: np.ndarray, p: QuantParams) -> np.ndarray:
    s = float(p.scale[0])
    z = int(p.zero_point[0])
    q = np.clip(round_half_away(x / s) + z, p.dtype.qmin, p.dtype.qmax)
    return ((q - z) * s).astype(np.float32)


class _Stream:
    """Per-sample tensors of one model variant, freed after their last reader."""

    def __init__(self, graph, feeds: list[dict], act: Mapping[str, QuantParams] | None) -> None:
        self.graph = graph
        self.act = act or {}
        self.values: dict[str, list[np.ndarray]] = {}
        for name in graph.inputs:
            xs = [np.asarray(f[name], graph.tensors[name].dtype) for f in feeds]
            self.values[name] = self._fq(name, xs)

    def _fq(self, name: str, xs: list[np.ndarray]) -> list[np.ndarray]:
        p = self.act.get(name)
        return xs if p is None else [_fake_quant(x, p) for x in xs]

    def get(self, name: str, n: int) -> list:
        if not name:
            return [None] * n
        if name in self.values:
            return self.values[name]
        return [self.graph.const(name)] * n

    def run(self, node, kernel, ctx, n: int, layer: tuple | None = None) -> None:
        """Run ``node`` on every sample; ``layer = (weight, bias)`` replaces its constants."""
        from edgeq.interp.float_ops._common import apply_fused_clamp

        args = [self.get(i, n) for i in node.inputs]
        if layer is not None:
            args += [[None] * n] * (3 - len(args))
            args[1] = [layer[0]] * n
            args[2] = [layer[1]] * n
        outs = [[] for _ in node.outputs]
        with np.errstate(all="ignore"):
            for j in range(n):
                res = kernel(node, [a[j] for a in args], ctx)
                if ("act_min" in node.attrs or "act_max" in node.attrs) and \
                        not getattr(kernel, "applies_fused_clamp", False):
                    res[0] = apply_fused_clamp(node, res[0])
                for lst, r in zip(outs, res):
                    lst.append(r)
        for name, lst in zip(node.outputs, outs):
            if name:
                self.values[name] = self._fq(name, lst)

    def free(self, names) -> None:
        for name in names:
            self.values.pop(name, None)


def adaround_graph(graph, feeds: list[dict], weight_params: Callable[[object], QuantParams], *,
                   act_params: Mapping[str, QuantParams] | None = None, nodes=None,
                   cfg: AdaRoundConfig = AdaRoundConfig(), progress=None) -> AdaRoundResult:
    """AdaRound every Conv/FullyConnected weight of a float ``graph`` (see module doc).

    ``feeds``: calibration feed dicts (the first ``cfg.samples`` are used).
    ``weight_params(node)``: the QuantParams (symmetric int8, per output channel or per
    tensor) the weight of ``node`` will be stored with. ``act_params``: float tensor ->
    QuantParams of its quantized activation (W8A8); ``None`` optimises for float
    activations. ``nodes``: names to process (default: every supported one).
    ``progress(done, total)`` is called after each layer.
    """
    from edgeq.interp.float_interp import Context
    from edgeq.interp.float_ops import FLOAT_OPS
    from edgeq.quantize.algorithms._blas import single_threaded

    t0 = time.perf_counter()
    feeds = list(feeds)[: cfg.samples]
    if not feeds:
        raise QuantizationError("AdaRound needs calibration samples; the data set is empty")
    n = len(feeds)
    result = AdaRoundResult()
    todo = []
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    for node in graph.nodes:
        if node.op_type not in ("Conv", "FullyConnected") or (nodes is not None and node.name not in nodes):
            continue
        why = supported(node, graph)
        if why is None and readers[node.inputs[1]] > 1:
            why = "weights shared with another node"
        if why is None:
            todo.append(node.name)
        else:
            result.layers[node.name] = {"skipped": why}
    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_use[name] = i
    keep = set(graph.outputs)
    ctx = Context(graph)
    fp, qs = _Stream(graph, feeds, None), _Stream(graph, feeds, act_params)
    done = 0
    # one BLAS thread: thousands of mid-sized products, which a thread pool on a busy
    # 2-core host slows down several-fold (measured 27-61 s single vs 66-146 s pooled
    # on MobileNetV2, edgeq/quantize/algorithms/_blas.py)
    with single_threaded():
        for i, node in enumerate(graph.nodes):
            kernel = FLOAT_OPS.lookup(node)
            qlayer = None
            if node.name in todo:
                qlayer = _round_layer(graph, node, fp, qs, n, weight_params(node), cfg, result)
                done += 1
                if progress is not None:
                    progress(done, len(todo))
            fp.run(node, kernel, ctx, n)
            qs.run(node, kernel, ctx, n, layer=qlayer)
            dead = [x for x in node.inputs if x and last_use.get(x) == i and x not in keep]
            fp.free(dead)
            qs.free(dead)
    result.seconds = time.perf_counter() - t0
    rep = result.report()
    log.info("AdaRound: %d layers in %.1f s, layer output error x%.3f of round-to-nearest's",
             rep["layers"], result.seconds, rep["mean_error_ratio"])
    return result


def _round_layer(graph, node, fp: _Stream, qs: _Stream, n: int, params: QuantParams,
                 cfg: AdaRoundConfig, result: AdaRoundResult) -> tuple:
    """Optimise one layer; returns its dequantized weights and its (corrected) bias
    for the quantized stream."""
    t0 = time.perf_counter()
    if params.zero_point.any():
        raise QuantizationError(f"AdaRound: weight of '{node.name}' must be symmetric "
                                f"(zero point 0), got zero points {params.zero_point[:4]}")
    w = graph.const(node.inputs[1])
    g = int(node.attrs.get("group", 1)) if node.op_type == "Conv" else 1
    k = int(np.prod(w.shape[1:]))
    xs_f, xs_q = fp.get(node.inputs[0], n), qs.get(node.inputs[0], n)
    rows_per = layer_rows(node, xs_f[0], w.shape).shape[2]
    total = rows_per * n
    mom = LayerMoments(g, k, keep_rows=total < k)
    rng = np.random.default_rng(cfg.seed)
    per_sample = max(1, -(-cfg.max_rows // n))
    for xf, xq in zip(xs_f, xs_q):
        rf, rq = layer_rows(node, xf, w.shape), layer_rows(node, xq, w.shape)
        if rows_per > per_sample:
            pick = np.sort(rng.choice(rows_per, per_sample, replace=False))
            rf, rq = rf[:, :, pick], rq[:, :, pick]
        mom.add(rf, rq)
    mom.flush()
    if total < cfg.min_rows * k:
        # too few rows to choose roundings that generalise; the mean error is still
        # well estimated (one number per output channel)
        result.layers[node.name] = {"skipped": f"{total} rows for {k} inputs per output"}
        q = np.clip(params.quantize(w), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)
    else:
        q, stats = optimize_rounding(w, params.scale, mom, cfg)
        stats["seconds"] = round(time.perf_counter() - t0, 3)
        result.layers[node.name] = stats
        log.debug("AdaRound %s: %s", node.name, stats)
    if cfg.correct_bias:
        result.bias_shift[node.name] = mean_error(w, params.dequantize(q), mom)
    result.weights[node.inputs[1]] = (q, params)
    bias = graph.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    shift = result.bias_shift.get(node.name)
    if shift is not None:
        bias = ((0.0 if bias is None else bias.astype(np.float64)) + shift).astype(np.float32)
    return params.dequantize(q), bias


def mean_error(w: np.ndarray, w_hat: np.ndarray, moments: LayerMoments) -> np.ndarray:
    """``mean_rows(W x_f − Ŵ x_q)`` per output channel ``[O]``: the bias shift that
    removes the mean output error of the rounded layer."""
    g, k = moments.groups, moments.k
    wg = w.astype(np.float64).reshape(g, -1, k)
    hg = w_hat.astype(np.float64).reshape(g, -1, k)
    diff = np.matmul(wg, moments.sum_f[..., None]) - np.matmul(hg, moments.sum_q[..., None])
    return diff.reshape(-1) / max(moments.rows, 1)


def with_bias_shifts(graph, shifts: Mapping[str, np.ndarray]):
    """A copy of ``graph`` whose Conv/FullyConnected biases include ``shifts`` (node name ->
    [O]); a layer without a bias gets one."""
    g = graph.copy()
    for node in g.nodes:
        shift = shifts.get(node.name)
        if shift is None:
            continue
        inputs = list(node.inputs) + [""] * (3 - len(node.inputs))
        out = g.tensors[node.inputs[1]].shape[0]
        b = g.const(inputs[2]) if inputs[2] else np.zeros(out, np.float32)
        inputs[2] = g.add_constant(f"{inputs[2] or node.name + '/bias'}_adaround",
                                   (b.astype(np.float64) + shift).astype(np.float32))
        node.inputs = inputs
    g.remove_unused()
    return g


def adaround_builder(builder, dataset):
    """The quantizer's hook (``weight_rounding="adaround"``, :mod:`.pipeline`).

    AdaRounds every Conv/FullyConnected the build will quantize, against the activation
    params of a preliminary build (so that ``x_q`` is the input the int8 model really
    sees), and stores the results in ``builder.weight_cache`` under the keys the build
    looks weights up by. Returns ``(graph, report)``: the graph to build from (biases
    shifted by the mean-error correction) and a report whose ``"nodes"`` lists the
    layers handled here (the generic bias correction must skip them).
    """
    import itertools

    from edgeq.calibrate.collect import _progress
    from edgeq.quantize.arith import scheme
    from edgeq.quantize.rewrites.prepare import executable

    if dataset is None:
        raise QuantizationError("weight_rounding='adaround' needs the calibration data itself, not "
                                "only its cached statistics; pass the data set to edgeq.quantize")
    opts, spec, graph = builder.opts, builder.spec, builder.graph_for_build
    prelim = builder.build()
    act = {}
    for name, qname in prelim.tensor_map.items():
        t = prelim.graph.tensors.get(qname)
        if t is not None and t.quant is not None and t.dtype.kind == "i" and not t.quant.per_channel:
            act[name] = t.quant
    nodes = {n.name for n in graph.nodes if n.op_type in ("Conv", "FullyConnected")
             and prelim.precision.get(n.name) in ("int8", "int16")}
    keys = {}

    def params(node):
        axis = 0 if node.op_type in spec.per_channel_ops else None
        keys[node.inputs[1]] = (node.inputs[1], axis, opts.weight_clip)
        return scheme.weight_params(graph.const(node.inputs[1]), axis, opts.weight_clip)

    cfg = AdaRoundConfig(iters=opts.adaround_iters, samples=opts.adaround_samples, seed=opts.seed)
    feeds = list(itertools.islice(iter(dataset), cfg.samples))
    with _progress(opts.progress, len(nodes), "adaround") as advance:
        res = adaround_graph(executable(graph), feeds, params, act_params=act, nodes=nodes, cfg=cfg,
                             progress=lambda done, total: advance())
    for wname, value in res.weights.items():
        builder.weight_cache[keys[wname]] = value
    report = res.report()
    report["nodes"] = sorted(n.name for n in graph.nodes if n.name in nodes and n.inputs[1] in res.weights)
    report["samples"] = len(feeds)
    return with_bias_shifts(graph, res.bias_shift), report
