"""Unroll ONNX ``GRU`` into per-time-step ops with integer kernels (as ``unroll_lstm``).

ONNX GRU-14 (gates ``z, r, h``; ``W[dir, 3H, I]``, ``R[dir, 3H, H]``,
``B[dir, 6H] = [Wb, Rb]``) for one forward direction, default activations (sigmoid,
tanh), no clip, ``layout = 0`` and full-length sequences becomes, for each step ``t``
(``x_t = Gather(X, t)``)::

    z  = sigmoid(FC(x_t, Wz, Wbz + Rbz) + FC(h, Rz))
    r  = sigmoid(FC(x_t, Wr, Wbr + Rbr) + FC(h, Rr))
    h~ = tanh(FC(x_t, Wh, Wbh + Rbh) + FC(r ⊙ h, Rh))          linear_before_reset = 0
    h~ = tanh(FC(x_t, Wh, Wbh) + r ⊙ FC(h, Rh, Rbh))            linear_before_reset = 1
    h_t = h~ + z ⊙ (h - h~)                                      = (1 - z) ⊙ h~ + z ⊙ h

with one FullyConnected per gate and input, so each pre-activation gets its own range.
``Y`` is the concatenation of the ``h_t`` and ``Y_h`` the last state. An absent
``initial_h`` (zeros) drops the recurrent terms of step 0. The state update (the
difference, its gating and the sum) is hinted int16 (``HINT_INT16``): the state carries
over every step, and at int8 its rounding compounds (a 5-step GRU on random inputs:
18.5 dB SQNR with an int8 state).
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, Emitter, add_hint

_GATES = ("z", "r", "h")


def _supported(graph: Graph, node) -> bool:
    acts = [a.decode() if isinstance(a, bytes) else a for a in node.attr("activations", [])]
    inputs = list(node.inputs) + [""] * (6 - len(node.inputs))
    return (node.attr("direction", "forward") in ("forward", b"forward")
            and int(node.attr("layout", 0)) == 0 and node.attr("clip") is None
            and acts in ([], ["Sigmoid", "Tanh"]) and not inputs[4]  # sequence_lens
            and graph.is_constant(inputs[1]) and graph.is_constant(inputs[2])
            and (not inputs[3] or graph.is_constant(inputs[3])))


def _unroll(graph: Graph, node) -> None:
    inputs = list(node.inputs) + [""] * (6 - len(node.inputs))
    x, w_name, r_name, b_name, _, h0 = inputs
    seq, batch, _ = graph.tensors[x].shape
    hidden = int(node.attr("hidden_size"))
    lbr = bool(int(node.attr("linear_before_reset", 0)))
    w, r = graph.const(w_name)[0], graph.const(r_name)[0]
    b = graph.const(b_name)[0] if b_name else np.zeros(6 * hidden, np.float32)
    em = Emitter(graph, node.name)
    bh = (batch, hidden)

    def rows(a, j):
        return a[j * hidden:(j + 1) * hidden]

    wb, rb = b[:3 * hidden], b[3 * hidden:]
    gate_w = {k: em.const(f"W_{k}", rows(w, j)) for j, k in enumerate(_GATES)}
    gate_r = {k: em.const(f"R_{k}", rows(r, j)) for j, k in enumerate(_GATES)}
    in_bias = {k: em.const(f"B_{k}", rows(wb, j) + (0 if (k == "h" and lbr) else rows(rb, j)))
               for j, k in enumerate(_GATES)}
    rbh = em.const("Rb_h", rows(rb, 2)) if lbr else ""
    axis0 = em.const("axis0", [0], np.int64)
    h = em.node("Squeeze", [h0, axis0], bh, "h_init") if h0 else None
    steps = []
    state_ops: list[str] = []
    for t in range(seq):
        p = f"t{t}"
        xt = em.node("Gather", [x, em.const(f"{p}/index", t, np.int64)], (batch, graph.tensors[x].shape[2]),
                     f"{p}/x", axis=0)
        gate = {}
        for k in ("z", "r"):
            pre = em.node("FullyConnected", [xt, gate_w[k], in_bias[k]], bh, f"{p}/{k}_input")
            if h is not None:
                rec = em.node("FullyConnected", [h, gate_r[k]], bh, f"{p}/{k}_recurrent")
                pre = em.node("Add", [pre, rec], bh, f"{p}/{k}_pre")
            gate[k] = em.node("Sigmoid", [pre], bh, f"{p}/{k}")
        pre = em.node("FullyConnected", [xt, gate_w["h"], in_bias["h"]], bh, f"{p}/h_input")
        if lbr:
            rec = (em.node("FullyConnected", [h, gate_r["h"], rbh], bh, f"{p}/h_recurrent")
                   if h is not None else rbh)
            gated = em.node("Mul", [gate["r"], rec], bh, f"{p}/h_reset")
            pre = em.node("Add", [pre, gated], bh, f"{p}/h_pre")
        elif h is not None:
            reset = em.node("Mul", [gate["r"], h], bh, f"{p}/reset_h")
            rec = em.node("FullyConnected", [reset, gate_r["h"]], bh, f"{p}/h_recurrent")
            pre = em.node("Add", [pre, rec], bh, f"{p}/h_pre")
        cand = em.node("Tanh", [pre], bh, f"{p}/candidate")
        if h is None:  # h = 0: h_t = h~ - z ⊙ h~
            kept = em.node("Mul", [gate["z"], cand], bh, f"{p}/update")
            h = em.node("Sub", [cand, kept], bh, f"{p}/hidden")
        else:
            delta = em.node("Sub", [h, cand], bh, f"{p}/delta")
            kept = em.node("Mul", [gate["z"], delta], bh, f"{p}/update")
            h = em.node("Add", [cand, kept], bh, f"{p}/hidden")
        state_ops += [n.name for n in em.nodes[-3:] if n.op_type in ("Sub", "Mul", "Add")]
        steps.append(h)
    y, yh = (list(node.outputs) + ["", ""])[:2]
    axes01 = em.const("axes01", [0, 1], np.int64)
    if y:
        parts = [em.node("Unsqueeze", [ht, axes01], (1, 1, batch, hidden), f"t{t}/y")
                 for t, ht in enumerate(steps)]
        em.node("Concat", parts, (seq, 1, batch, hidden), "Y", output=y, axis=0)
    if yh:
        em.node("Unsqueeze", [h, axis0], (1, batch, hidden), "Y_h", output=yh)
    em.commit(node)
    add_hint(graph, HINT_INT16, state_ops)


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "GRU" and not n.domain]:
        if _supported(graph, node):
            _unroll(graph, node)
            changed = True
    if changed:
        graph.remove_unused()
    return changed
