"""Fold an inference BatchNormalization into the Conv / ConvTranspose that produces
its input.

Contract: for ``Conv(X, W, B?) -> BatchNormalization(scale, bias, mean, var, eps)``
where W, B and the BN parameters are constants, the Conv output is read only by the
BN, the Conv carries no fused clamp and the BN is in inference mode (one output):

    s = scale / sqrt(var + eps)          (per output channel, ONNX BatchNormalization)
    W' = W * s[:, None, ...]             (Conv weight layout [M, C/group, k...])
    B' = (B - mean) * s + bias           (B = 0 when absent)

ConvTranspose weights are ``[C, M/group, k...]``: output channel ``g·M/group + j`` is
column ``j`` of the rows of group ``g``, so those columns are scaled instead.

and the Conv writes the BN's output. The arithmetic is done in float64 and stored in
the weight dtype, so the folded conv matches the unfused pair to float rounding.
A BN with any other producer is left alone.
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._match import Uses


def run(graph: Graph) -> bool:
    changed = False
    uses = Uses(graph)
    for bn in [n for n in graph.nodes if n.op_type == "BatchNormalization" and n.domain == ""]:
        conv = uses.producer_of(bn.inputs[0], ("Conv", "ConvTranspose"))
        if conv is None or not uses.private(bn.inputs[0]) or _has_clamp(conv):
            continue
        if len([o for o in bn.outputs if o]) != 1 or bn.attrs.get("training_mode", 0):
            continue
        params = [graph.const(name) for name in bn.inputs[1:5]]
        weight = graph.const(conv.inputs[1])
        bias_in = conv.inputs[2] if len(conv.inputs) > 2 and conv.inputs[2] else None
        bias = graph.const(bias_in) if bias_in else None
        if weight is None or any(p is None for p in params) or (bias_in and bias is None):
            continue
        scale, beta, mean, var = (np.asarray(p, dtype=np.float64).reshape(-1) for p in params)
        channels = graph.tensors[bn.inputs[0]].shape[1]
        if any(p.size not in (1, channels) for p in (scale, beta, mean, var)):
            continue
        s = np.broadcast_to(scale / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5))), (channels,))
        new_w = weight.astype(np.float64) * _weight_scale(conv, weight.shape, s)
        b = np.zeros(channels) if bias is None else bias.astype(np.float64).reshape(-1)
        new_b = (b - mean) * s + beta
        w_name = graph.add_constant(conv.inputs[1] + "_bnfold", new_w.astype(weight.dtype))
        b_name = graph.add_constant((bias_in or conv.name + "_bias") + "_bnfold",
                                    np.broadcast_to(new_b, (channels,)).astype(weight.dtype))
        conv.inputs = [conv.inputs[0], w_name, b_name]
        conv.outputs = [bn.outputs[0]]
        graph.nodes.remove(bn)
        changed = True
        uses.refresh()
    if changed:
        graph.remove_unused()
    return changed


def _weight_scale(conv, w_shape: tuple[int, ...], s: np.ndarray) -> np.ndarray:
    """``s`` (per output channel) laid out to multiply the weight elementwise."""
    ones = (1,) * (len(w_shape) - 2)
    if conv.op_type == "Conv":
        return s.reshape((-1, 1) + ones)
    group = int(conv.attrs.get("group", 1))
    per_group_in, per_group_out = w_shape[0] // group, w_shape[1]
    rows = s.reshape(group, 1, per_group_out).repeat(per_group_in, axis=1)
    return rows.reshape((w_shape[0], per_group_out) + ones)


def _has_clamp(node) -> bool:
    return "act_min" in node.attrs or "act_max" in node.attrs
