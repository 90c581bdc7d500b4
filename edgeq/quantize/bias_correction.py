"""Empirical bias correction (Nagel et al. 2019, *Data-Free Quantization Through Weight
Equalization and Bias Correction*, §4.2).

Quantizing a weight ``W`` to ``Ŵ = W + ε`` shifts the expected output of the layer by
``E[ε·x] = ε·E[x]``, a per-channel bias that rounding does not average away (it is
large for depthwise convolutions with few taps). With ``E[x]`` measured on the
calibration data (the per-input-channel means :mod:`edgeq.calibrate.collect` keeps),
the bias becomes ``b - ε·E[x]``:

* Conv ``W[O, I/g, kH, kW]``: ``shift[o] = Σ_{i,kh,kw} ε[o,i,kh,kw] · E[x][g(o)·I/g + i]``
  (zero padding at the borders is ignored: a second-order effect);
* FullyConnected ``W[out, in]``: ``shift = ε @ E[x]``.

The weights must be quantized exactly as the builder will (same ``weight_params``),
which the shared ``weight_cache`` guarantees.
"""

from __future__ import annotations

import logging

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.quantize import scheme

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


def correct_biases(graph: Graph, channel_means: dict, *, per_channel_ops, weight_clip: str,
                   weight_cache: dict, skip=frozenset()) -> tuple[Graph, dict[str, float]]:
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
        shift = output_shift(node, g, eps, channel_means[x])
        inputs = list(node.inputs) + [""] * (3 - len(node.inputs))
        b = g.const(inputs[2]) if inputs[2] else np.zeros(w.shape[0], np.float32)
        inputs[2] = g.add_constant(f"{inputs[2] or node.name + '/bias'}_corrected",
                                   (b.astype(np.float64) - shift).astype(np.float32))
        node.inputs = inputs
        report[node.name] = float(np.max(np.abs(shift))) if shift.size else 0.0
    g.remove_unused()
    return g, report
