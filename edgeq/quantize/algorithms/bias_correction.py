"""Empirical bias correction (Nagel et al. 2019, *Data-Free Quantization Through Weight
Equalization and Bias Correction*, §4.2).

Quantizing a weight ``W`` to ``Ŵ = W + ε`` shifts the expected output of the layer by
``E[ε·x] = ε·E[x]``, a per-channel bias that rounding does not average away (it is
large for depthwise convolutions with few taps). With ``E[x]`` measured on the
calibration data (the per-input-channel means :mod:`edgeq.calibrate.collect` keeps),
the bias becomes ``b - ε·E[x]``:

* with the mean input patch ``E[p]`` (im2col, zero padding included; calibration keeps
  it next to GPTQ's statistics): ``shift[o] = Σ_k ε[o, k] · E[p][g(o), k]``, exact even
  for small feature maps where most taps read padding;
* otherwise from the per-channel means, every tap assumed to see its channel's mean:
  Conv ``shift[o] = Σ_{i,kh,kw} ε[o,i,kh,kw] · E[x][g(o)·I/g + i]``, FullyConnected
  ``shift = ε @ E[x]``.

The weights must be quantized exactly as the builder will (same ``weight_params``),
which the shared ``weight_cache`` guarantees.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.quantize.arith import scheme
from edgeq.quantize.algorithms.gptq import hessian_key, split_moments

log = logging.getLogger(__name__)


def weight_error(w: np.ndarray, axis: int | None, clip: str, cache: dict, name: str) -> np.ndarray:
    """``dequant(quant(W)) - W`` with the builder's weight quantization (cached by name)."""
    key = (name, axis, clip)
    if key not in cache:
        wp = scheme.weight_params(w, axis, clip)
        cache[key] = (scheme.quantize_weight(w, wp), wp)
    wq, wp = cache[key]
    return wp.dequantize(wq).astype(np.float64) - w.astype(np.float64)


def output_shift(node, graph: Graph, eps: np.ndarray, mean: np.ndarray) -> np.ndarray:
    if node.op_type == "FullyConnected":
        return eps @ mean.astype(np.float64)
    group = int(node.attr("group", 1))
    out_ch, in_per_group = eps.shape[0], eps.shape[1]
    per_in = eps.reshape(out_ch, in_per_group, -1).sum(axis=2)  # [O, I/g]
    group_of = np.arange(out_ch) // (out_ch // group)
    idx = group_of[:, None] * in_per_group + np.arange(in_per_group)[None, :]
    return np.sum(per_in * mean.astype(np.float64)[idx], axis=1)


def patch_shift(eps: np.ndarray, mean_patch: np.ndarray) -> np.ndarray:
    """``shift[o] = ε[o] · E[p][group(o)]`` for ε ``[O, K...]`` and mean patches ``[g, K]``."""
    out_ch = eps.shape[0]
    group = mean_patch.shape[0]
    e = eps.reshape(group, out_ch // group, -1).astype(np.float64)
    return np.einsum("gok,gk->go", e, mean_patch).reshape(out_ch)


def correct_biases(graph: Graph, channel_means: dict, *, per_channel_ops, weight_clip: str,
                   weight_cache: dict, skip=frozenset(), hessians=None) -> tuple[Graph, dict[str, float]]:
    """A copy of ``graph`` with corrected Conv/FullyConnected biases; also returns the
    largest absolute correction per node (for the report)."""
    g = graph.copy()
    report: dict[str, float] = {}
    for node in g.nodes:
        if node.op_type not in ("Conv", "FullyConnected") or node.name in skip:
            continue
        x = node.inputs[0]
        w = g.const(node.inputs[1])
        if x not in channel_means or w is None:
            continue
        axis = 0 if node.op_type in per_channel_ops else None
        eps = weight_error(w, axis, weight_clip, weight_cache, node.inputs[1])
        if node.op_type == "FullyConnected" and eps.ndim != 2:
            continue
        key = hessian_key(node, g) if hessians else None
        if key is not None and key in hessians and hessians[key].shape[-1] - 1 == eps[0].size:
            shift = patch_shift(eps, split_moments(hessians[key])[1])
        else:
            shift = output_shift(node, g, eps, channel_means[x])
        inputs = list(node.inputs) + [""] * (3 - len(node.inputs))
        b = g.const(inputs[2]) if inputs[2] else np.zeros(w.shape[0], np.float32)
        inputs[2] = g.add_constant(f"{inputs[2] or node.name + '/bias'}_corrected",
                                   (b.astype(np.float64) - shift).astype(np.float32))
        node.inputs = inputs
        report[node.name] = float(np.max(np.abs(shift))) if shift.size else 0.0
    g.remove_unused()
    return g, report
