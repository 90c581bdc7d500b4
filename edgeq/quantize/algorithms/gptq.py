"""Data-aware weight rounding: GPTQ (Frantar et al. 2022, *GPTQ: Accurate
Post-Training Quantization for Generative Pre-trained Transformers*, Algorithm 1; the
Optimal Brain Quantization update of Frantar & Alistarh 2022).

Round-to-nearest minimises each weight's own error; what matters is the layer output
error ``E||(W - Ŵ) x||² = tr((W - Ŵ) H (W - Ŵ)ᵀ)`` with ``H = E[x xᵀ]`` the second
moment of the layer's input patches. GPTQ quantizes the input columns one at a time and
moves each column's rounding error onto the columns not yet quantized, weighted by the
inverse of ``H`` (via its upper Cholesky factor), which keeps the output error close to
the minimum over the integer grid. Scales (per output channel, symmetric, [-127, 127])
are chosen first (``weight_params``), so the result is an ordinary int8 weight tensor.

On MobileNetV2 this lifts weight-only int8 from 12.5 dB / 0.66 top-1 agreement (RTN)
to 25.6 dB / 0.93 on the zoo's evaluation crops: depthwise 3×3 filters that compute
small differences of large taps are where rounding errors add up.

Input statistics: :func:`patch_matrix` turns a layer input into its ``[groups, K, M]``
patch matrix (im2col for Conv, rows for FullyConnected) and calibration accumulates
``P Pᵀ`` per (input tensor, geometry) key (:func:`hessian_key`).
"""

from __future__ import annotations

import json
import logging

import numpy as np

from edgeq.quantize.arith import scheme

log = logging.getLogger(__name__)

#: dampening added to H's diagonal, as a fraction of its mean (GPTQ §4 uses 1%)
DAMP = 0.01
#: patches per sample that enter H: larger feature maps use every k-th output row, the
#: phase moving from sample to sample (an estimate of E[x xᵀ] from 64 samples x 2048
#: patches is far tighter than the 8-bit grid; it also bounds the time per sample)
MAX_PATCHES = 2048
#: widest layer input (I/g·kH·kW) GPTQ is used for: its statistics cost K² per patch; the
#: wider layers of the zoo (MiniLM's 1536-wide FFN projections, MobileNetV2's 1280-wide
#: classifier) keep round-to-nearest, which changed MiniLM's output SQNR by 0.2 dB
MAX_K = 1024
#: rows per sample of a FullyConnected input that enter H (every k-th token, moving
#: phase): a sequence model's FC sees sequence-length rows per sample and its H costs
#: K² per row, while 64 samples x 32 rows already exceed K for K <= 2048
MAX_FC_ROWS = 32
#: input statistics stop accumulating once a layer has seen this many patches per
#: input dimension (and at least 32768 of them) over at least MIN_HESSIAN_SAMPLES samples:
#: early layers with large feature maps reach it after a few samples, which bounds the
#: calibration time, while late layers with few positions keep accumulating
PATCHES_PER_DIM = 64
MIN_HESSIAN_SAMPLES = 8
#: columns per lazy-update block (GPTQ §4 "lazy batch-updates")
BLOCK = 32


def geometry(node, graph) -> dict | None:
    """The patch geometry of a Conv/FullyConnected node (None for other ops)."""
    if node.op_type == "FullyConnected":
        return {"op": "fc"}
    if node.op_type != "Conv":
        return None
    w = graph.const(node.inputs[1])
    if w is None or w.ndim != 4:
        return None
    return {"op": "conv", "k": [int(w.shape[2]), int(w.shape[3])], "group": int(node.attr("group", 1)),
            "pads": [int(p) for p in node.attr("pads", [0, 0, 0, 0])],
            "strides": [int(s) for s in node.attr("strides", [1, 1])],
            "dilations": [int(d) for d in node.attr("dilations", [1, 1])]}


def hessian_key(node, graph) -> str | None:
    """The statistics key of a Conv/FullyConnected's input (None: no GPTQ for the node)."""
    geo = geometry(node, graph)
    if geo is None or graph.is_constant(node.inputs[0]):
        return None
    w = graph.const(node.inputs[1])
    if w is None or int(np.prod(w.shape[1:])) > MAX_K:
        return None
    return f"{node.inputs[0]}|{json.dumps(geo, sort_keys=True)}"


def patch_matrix(x: np.ndarray, geo: dict, phase: int = 0, max_patches: int | None = None,
                 samples: int = 1) -> np.ndarray:
    """``[groups, K, M]`` patches of input ``x`` (K = C/g·kh·kw, M <= N·Ho·Wo): all of
    them, or with ``max_patches`` per sample every k-th output row, starting at
    ``(phase + i) % k`` for the ``i``-th of the ``samples`` samples stacked in ``x``
    (the patches one call per sample would take)."""
    parts = [p for p, _n in _patch_parts(x, geo, phase, max_patches, samples)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)


def _patch_parts(x: np.ndarray, geo: dict, phase: int, max_patches: int | None, samples: int):
    """``(patches, samples)`` per group of stacked samples sharing a row offset (one
    group without subsampling): every sample of a group gives the same patch count."""
    x = np.asarray(x, np.float32)
    if samples > 1 and max_patches:
        per = x.shape[0] // samples
        k = _row_step(x.shape[1:], per, geo, max_patches)
        if k > 1:
            xs = x.reshape((samples, per) + x.shape[1:])
            for r in range(k):
                sel = [i for i in range(samples) if (phase + i) % k == r]
                if sel:
                    yield _patches(xs[sel].reshape((-1,) + x.shape[1:]), geo, r, max_patches, len(sel)), len(sel)
            return
    yield _patches(x, geo, phase, max_patches, samples), samples


def _row_step(shape: tuple, n: int, geo: dict, max_patches: int) -> int:
    """The row step :func:`_patches` takes for one sample (``n`` rows of ``shape``)."""
    if geo["op"] == "fc":
        rows = n * int(np.prod(shape[:-1]))
        limit = min(max_patches, MAX_FC_ROWS)
        return -(-rows // limit) if rows > limit else 1
    (kh, kw), (t, l, b, r) = geo["k"], geo["pads"]
    (sh, sw), (dh, dw) = geo["strides"], geo["dilations"]
    ho = (shape[1] + t + b - (kh - 1) * dh - 1) // sh + 1
    wo = (shape[2] + l + r - (kw - 1) * dw - 1) // sw + 1
    if (kh, kw, sh, sw, t, l, b, r) == (1, 1, 1, 1, 0, 0, 0, 0):
        k = -(-ho * wo * n // max_patches) if ho * wo * n > max_patches else 1
        return k if ho >= k else 1
    return min(ho, -(-ho * wo * n // max_patches)) if ho * wo * n > max_patches else 1


def _patches(x: np.ndarray, geo: dict, phase: int, max_patches: int | None, samples: int) -> np.ndarray:
    """:func:`patch_matrix` with one row offset for every sample."""
    if geo["op"] == "fc":
        rows = x.reshape(-1, x.shape[-1])
        limit = min(max_patches, MAX_FC_ROWS) * samples if max_patches else None
        if limit and rows.shape[0] > limit:
            k = -(-rows.shape[0] // limit)
            rows = rows[phase % k::k]
        return rows.T[None]
    max_patches = max_patches * samples if max_patches else None
    (kh, kw), g = geo["k"], geo["group"]
    t, l, b, r = geo["pads"]
    sh, sw = geo["strides"]
    dh, dw = geo["dilations"]
    n, c = x.shape[:2]
    if (kh, kw, sh, sw, t, l, b, r) == (1, 1, 1, 1, 0, 0, 0, 0):
        if max_patches and x.shape[2] * x.shape[3] * n > max_patches:
            k = -(-x.shape[2] * x.shape[3] * n // max_patches)
            x = x[:, :, phase % k::k] if x.shape[2] >= k else x
        return x.reshape(n, g, c // g, -1).transpose(1, 2, 0, 3).reshape(g, c // g, -1)
    if t or l or b or r:  # zero padding (np.pad costs more than the copy itself on small maps)
        xp = np.zeros((n, c, x.shape[2] + t + b, x.shape[3] + l + r), np.float32)
        xp[:, :, t:t + x.shape[2], l:l + x.shape[3]] = x
    else:
        xp = x
    ho = (xp.shape[2] - (kh - 1) * dh - 1) // sh + 1
    wo = (xp.shape[3] - (kw - 1) * dw - 1) // sw + 1
    row0, row_step = 0, 1
    if max_patches and ho * wo * n > max_patches:
        row_step = min(ho, -(-ho * wo * n // max_patches))
        row0 = phase % row_step
        ho = len(range(row0, ho, row_step))
    # one strided copy per kernel tap (the innermost axis stays contiguous for unit
    # strides) into [g, C/g, kh·kw, N, Ho, Wo]; a 6-d window view copies far slower
    out = np.empty((g, c // g, kh * kw, n, ho, wo), np.float32)
    src = xp.reshape(n, g, c // g, xp.shape[2], xp.shape[3]).transpose(1, 2, 0, 3, 4)
    for i in range(kh):
        top = i * dh + row0 * sh
        for j in range(kw):
            left = j * dw
            out[:, :, i * kw + j] = src[:, :, :, top: top + (ho - 1) * sh * row_step + 1: sh * row_step,
                                        left: left + (wo - 1) * sw + 1: sw]
    return out.reshape(g, (c // g) * kh * kw, n * ho * wo)


def accumulate(h: np.ndarray | None, x: np.ndarray, geo: dict, phase: int = 0, samples: int = 1) -> np.ndarray:
    """``h + samples · A Aᵀ / M`` for (a subsample of) the ``M`` patches ``P`` of ``x``
    (``samples`` samples) extended by a row of ones, ``A = [P; 1]``: the top-left
    ``[K, K]`` block is GPTQ's ``H = E[x xᵀ]`` and the last column ``E[x]``, the mean patch
    (padding included) that bias correction needs. Float32 products, float64 running
    sum; a sum over samples of per-sample means (a common scale)."""
    for p, n in _patch_parts(x, geo, phase, MAX_PATCHES, samples):
        p = np.ascontiguousarray(p)
        g, k, m = p.shape
        # the blocks of A Aᵀ without materialising A: P Pᵀ, P·1 and 1·1 = M
        pp = np.empty((g, k + 1, k + 1), np.float64)
        # a 2-d P @ P.T is a BLAS syrk; numpy's stacked matmul is fastest (by 2-3x) on
        # two C-contiguous operands, so the transpose is copied
        pp[:, :k, :k] = (p[0] @ p[0].T)[None] if g == 1 else np.matmul(p, np.ascontiguousarray(p.transpose(0, 2, 1)))
        pp[:, :k, k] = pp[:, k, :k] = p.sum(axis=2)
        pp[:, k, k] = m
        pp *= n / max(m, 1)
        if h is None:
            h = pp
        else:
            h += pp
    return h


def patch_count(x: np.ndarray, geo: dict) -> int:
    """How many patches :func:`accumulate` takes from ``x`` (after subsampling)."""
    if geo["op"] == "fc":
        rows = min(int(np.prod(x.shape[:-1])), MAX_FC_ROWS)
    else:
        (kh, kw), (t, l, b, r) = geo["k"], geo["pads"]
        (sh, sw), (dh, dw) = geo["strides"], geo["dilations"]
        ho = (x.shape[2] + t + b - (kh - 1) * dh - 1) // sh + 1
        wo = (x.shape[3] + l + r - (kw - 1) * dw - 1) // sw + 1
        rows = x.shape[0] * ho * wo
    return min(rows, MAX_PATCHES * 2)


def enough_patches(k: int) -> int:
    """The patch count after which the statistics of a layer input with patch length
    ``k`` stop accumulating."""
    return max(PATCHES_PER_DIM * k, 32768)


def split_moments(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(H [g, K, K], mean patch [g, K])`` from an :func:`accumulate` result."""
    k = h.shape[-1] - 1
    return h[:, :k, :k], h[:, :k, k] / h[:, k:, k]


_FACTORS: dict = {}


def _inverse_factor(hd: np.ndarray) -> np.ndarray:
    """Upper Cholesky factor of ``H⁻¹`` per group, memoised by content: weights reading
    the same input (an attention block's Q, K and V) share one factorisation."""
    key = (hd.shape, hash(hd.tobytes()))
    hit = _FACTORS.get(key)
    if hit is not None and np.array_equal(hit[0], hd):
        return hit[1]
    u = np.linalg.cholesky(np.linalg.inv(hd)).transpose(0, 2, 1)
    _FACTORS.clear()  # keep one entry: consecutive weights share inputs, memory stays bounded
    _FACTORS[key] = (hd, u)
    return u


def gptq_round(w2d: np.ndarray, h: np.ndarray, scale: np.ndarray, qmax: int = scheme.WEIGHT_QMAX,
               damp: float = DAMP) -> np.ndarray:
    """Integer weights for ``w2d[g, O_g, K]`` with per-row ``scale[g, O_g]`` and shared
    ``h[g, K, K]`` per group (GPTQ, batched over groups)."""
    w = np.array(w2d, np.float64)
    g, _, k = w.shape
    hd = np.array(h, np.float64)
    diag = np.einsum("gii->gi", hd)
    dead = diag <= 0
    idx = np.arange(k)
    hd[:, idx, idx] += damp * np.maximum(diag.mean(axis=1, keepdims=True), 1e-12) + dead
    # inputs that calibration never excited keep their rounded weights (GPTQ zeroes
    # them; here they get unit curvature and no coupling, so nothing flows into them)
    try:
        u = _inverse_factor(hd)
    except np.linalg.LinAlgError:
        log.info("GPTQ: singular input statistics, rounding to nearest")
        return np.clip(scheme.round_half_away(w / scale[..., None]), -qmax, qmax)
    q = np.zeros_like(w)
    s = scale.astype(np.float64)
    # every integer weight stays within one step of its float value (AdaRound's choice
    # between rounding down and up, Nagel et al. 2020): without the bound, directions
    # the calibration data barely excites (dead ReLU channels, padding taps) absorb
    # large errors that real data then exposes
    floor = np.floor(w / s[..., None])
    # clip(clip(x, f, f+1), -qmax, qmax) == clip(x, clip(f), clip(f+1)): one clip per column
    lo_q = np.clip(floor, -qmax, qmax).transpose(0, 2, 1).copy()
    hi_q = np.clip(floor + 1, -qmax, qmax).transpose(0, 2, 1).copy()
    # columns are rows of the transposed weights [g, K, O]: contiguous, updated in place
    wt = w.transpose(0, 2, 1).copy()
    qt = np.zeros_like(wt)
    v, r, e = (np.empty((g, w.shape[1])) for _ in range(3))
    # GPTQ's lazy batch updates: errors are propagated inside a block of columns one by
    # one, and onto the columns after the block with one matrix product per block
    for b0 in range(0, k, BLOCK):
        b1 = min(b0 + BLOCK, k)
        wtb = wt[:, b0:b1]
        ub = u[:, b0:b1, b0:b1]
        errs = np.zeros((g, w.shape[1], b1 - b0))
        for i in range(b1 - b0):
            col = wtb[:, i]
            np.divide(col, s, out=v)
            # round half away from zero: trunc(v ± 0.5) == sign(v) * floor(|v| + 0.5)
            np.copysign(0.5, v, out=r)
            r += v
            np.trunc(r, out=r)
            np.maximum(r, lo_q[:, b0 + i], out=r)
            np.minimum(r, hi_q[:, b0 + i], out=r)
            qt[:, b0 + i] = r
            np.multiply(r, s, out=e)
            np.subtract(col, e, out=e)
            e /= ub[:, i, i][:, None]
            wtb[:, i + 1:] -= ub[:, i, i + 1:, None] * e[:, None, :]
            errs[:, :, i] = e
        if b1 < k:
            wt[:, b1:] -= np.matmul(errs, u[:, b0:b1, b1:]).transpose(0, 2, 1)
    return qt.transpose(0, 2, 1)


def quantize_weight_gptq(w: np.ndarray, h: np.ndarray, params, group: int) -> np.ndarray:
    """int8 weights of a Conv ``W[O, I/g, kh, kw]`` or FC ``W[out, in]`` with GPTQ."""
    out = w.shape[0]
    k = int(np.prod(w.shape[1:]))
    scale = np.broadcast_to(params.scale.astype(np.float64), (out,)).reshape(group, out // group)
    q = gptq_round(w.reshape(group, out // group, k), h, scale)
    return q.reshape(w.shape).astype(np.int8)


def gptq_weights(graph, hessians: dict, *, per_channel_ops, weight_clip: str, weight_cache: dict,
                 skip=frozenset()) -> int:
    """Fill ``weight_cache[(weight, axis, clip)]`` with GPTQ-rounded weights for every
    Conv/FullyConnected with input statistics; a weight shared by several nodes (an
    unrolled recurrence) uses the sum of their ``H``. Returns the number of weights."""
    by_weight: dict[str, tuple[np.ndarray, int, str, np.ndarray | None]] = {}
    for node in graph.nodes:
        if node.op_type not in ("Conv", "FullyConnected") or node.name in skip:
            continue
        key = hessian_key(node, graph)
        w = graph.const(node.inputs[1])
        if key is None or key not in hessians or w is None:
            continue
        group = int(node.attr("group", 1)) if node.op_type == "Conv" else 1
        name = node.inputs[1]
        prev = by_weight.get(name)
        h = hessians[key] if prev is None else prev[3] + hessians[key]
        if prev is not None and prev[1] != group:
            continue
        by_weight[name] = (w, group, node.op_type, h)
    by_weight = {k: (w, g, op, split_moments(h)[0]) for k, (w, g, op, h) in by_weight.items()}
    # weights with the same input statistics (an LSTM's four gates reading x_t, or h_t,
    # at every step) are rounded in one call: GPTQ treats output rows independently,
    # so stacking their rows gives each weight the result it would get alone
    shared: dict[tuple, list[str]] = {}
    for name, (w, group, _op, h) in by_weight.items():
        shared.setdefault((group, h.shape, hash(h.tobytes())), []).append(name)
    from edgeq.quantize.algorithms._blas import single_threaded

    with single_threaded():
        for names in shared.values():
            first = by_weight[names[0]][3]
            same = [n for n in names if np.array_equal(by_weight[n][3], first)]
            _round_together(same, by_weight, per_channel_ops, weight_clip, weight_cache)
            for n in names:
                if n not in same:
                    _round_together([n], by_weight, per_channel_ops, weight_clip, weight_cache)
    return len(by_weight)


def _row_params(w, op, per_channel_ops, weight_clip):
    """(params, per-row params) of one weight: per-channel, or a per-tensor scale
    repeated for every row."""
    axis = 0 if op in per_channel_ops else None
    params = scheme.weight_params(w, axis, weight_clip)
    rows = params
    if axis is None:  # a per-tensor scale: every row shares it
        from edgeq.types import QuantParams

        rows = QuantParams(np.repeat(params.scale, w.shape[0]), np.zeros(w.shape[0], np.int64),
                           params.dtype, 0)
    return axis, params, rows


def _round_together(names, by_weight, per_channel_ops, weight_clip, weight_cache) -> None:
    """GPTQ for weights sharing their input statistics and group count, rows stacked."""
    group, h = by_weight[names[0]][1], by_weight[names[0]][3]
    blocks, scales, metas = [], [], []
    for name in names:
        w, _group, op, _h = by_weight[name]
        axis, params, rows = _row_params(w, op, per_channel_ops, weight_clip)
        out = w.shape[0]
        blocks.append(w.reshape(group, out // group, -1))
        scales.append(np.broadcast_to(rows.scale.astype(np.float64), (out,)).reshape(group, out // group))
        metas.append((name, w.shape, axis, params))
    q = gptq_round(np.concatenate(blocks, axis=1), h, np.concatenate(scales, axis=1))
    start = 0
    for (name, shape, axis, params), block in zip(metas, blocks):
        stop = start + block.shape[1]
        weight_cache[(name, axis, weight_clip)] = (q[:, start:stop].reshape(shape).astype(np.int8), params)
        start = stop
