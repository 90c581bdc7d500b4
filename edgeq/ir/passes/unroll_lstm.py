"""Unroll ONNX ``LSTM`` into per-time-step ops with integer kernels.

ONNX LSTM-14 (gates ``i, o, f, c``; ``W[dir, 4H, I]``, ``R[dir, 4H, H]``,
``B[dir, 8H] = [Wb, Rb]``) for one direction, default activations (sigmoid, tanh, tanh),
no peepholes, no clip, ``layout = 0`` and full-length sequences becomes, for each step
``t`` (``x_t = Gather(X, t)``)::

    gate_k = act_k(FC(x_t, W_k, Wb_k + Rb_k) + FC(h_{t-1}, R_k))    k in i, o, f, c
    c_t    = f ⊙ c_{t-1} + i ⊙ g                                    (g = gate_c)
    h_t    = o ⊙ tanh(c_t)

with one FullyConnected per gate (each pre-activation gets its own quantization
range, as in TFLite's integer LSTM kernel, kernels/lstm_eval.cc), ``Y`` the
concatenation of the ``h_t`` and ``Y_h``/``Y_c`` the last states. A zero
``initial_h``/``initial_c`` (absent) drops the recurrent terms of step 0.

The cell-state arithmetic (``f ⊙ c``, ``i ⊙ g``, their sum and ``tanh(c_t)``) is hinted
int16 (``HINT_INT16``): the cell state accumulates over time and needs 16 bits, as in
TFLite's integer LSTM (cell state int16, kernels/lstm_eval.cc ``CalculateLstmCellInteger8x8_16``).

Each unrolled LSTM is recorded in the ``HINT_LSTM`` hint (its tensors: input, initial
states, outputs, per-gate constants, per-step hidden and cell values), so that a target
with a fused integer LSTM (``QuantSpec.fused_ops``) can fold the quantized steps back
into one operator (edgeq/quantize/rewrites/fuse_lstm.py).
"""

from __future__ import annotations

import numpy as np

from edgeq.ir.graph import Graph
from edgeq.ir.passes._emitter import HINT_INT16, HINT_LSTM, Emitter, add_hint

_GATES = ("i", "o", "f", "c")


def _supported(graph: Graph, node) -> bool:
    acts = [a.decode() if isinstance(a, bytes) else a for a in node.attr("activations", [])]
    inputs = list(node.inputs) + [""] * (8 - len(node.inputs))
    return (node.attr("direction", "forward") in ("forward", b"forward")
            and int(node.attr("layout", 0)) == 0 and node.attr("clip") is None
            and not int(node.attr("input_forget", 0))
            and acts in ([], ["Sigmoid", "Tanh", "Tanh"])
            and not inputs[4] and not inputs[7]  # sequence_lens, peepholes
            and graph.is_constant(inputs[1]) and graph.is_constant(inputs[2])
            and (not inputs[3] or graph.is_constant(inputs[3])))


def _unroll(graph: Graph, node) -> None:
    inputs = list(node.inputs) + [""] * (8 - len(node.inputs))
    x, w_name, r_name, b_name, _, h0, c0, _ = inputs
    seq, batch, _ = graph.tensors[x].shape
    hidden = int(node.attr("hidden_size"))
    w, r = graph.const(w_name)[0], graph.const(r_name)[0]
    b = graph.const(b_name)[0] if b_name else np.zeros(8 * hidden, np.float32)
    em = Emitter(graph, node.name)
    bh = (batch, hidden)
    gate_w = {k: em.const(f"W_{k}", w[j * hidden:(j + 1) * hidden]) for j, k in enumerate(_GATES)}
    gate_r = {k: em.const(f"R_{k}", r[j * hidden:(j + 1) * hidden]) for j, k in enumerate(_GATES)}
    gate_b = {k: em.const(f"B_{k}", b[j * hidden:(j + 1) * hidden] + b[(4 + j) * hidden:(5 + j) * hidden])
              for j, k in enumerate(_GATES)}
    axis0 = em.const("axis0", [0], np.int64)
    h = em.node("Squeeze", [h0, axis0], bh, "h_init") if h0 else None
    c = em.node("Squeeze", [c0, axis0], bh, "c_init") if c0 else None
    h_init, c_init = h, c
    int16: list[str] = []
    steps, cells = [], []
    for t in range(seq):
        p = f"t{t}"
        xt = em.node("Gather", [x, em.const(f"{p}/index", t, np.int64)], (batch, graph.tensors[x].shape[2]),
                     f"{p}/x", axis=0)
        gates = {}
        for k in _GATES:
            pre = em.node("FullyConnected", [xt, gate_w[k], gate_b[k]], bh, f"{p}/{k}_input")
            if h is not None:
                rec = em.node("FullyConnected", [h, gate_r[k]], bh, f"{p}/{k}_recurrent")
                pre = em.node("Add", [pre, rec], bh, f"{p}/{k}_pre")
            gates[k] = em.node("Tanh" if k == "c" else "Sigmoid", [pre], bh, f"{p}/{k}")
        ig = em.node("Mul", [gates["i"], gates["c"]], bh, f"{p}/input_x_cell")
        int16.append(em.nodes[-1].name)
        if c is not None:
            fc = em.node("Mul", [gates["f"], c], bh, f"{p}/forget_x_cell")
            int16.append(em.nodes[-1].name)
            c = em.node("Add", [fc, ig], bh, f"{p}/cell")
            int16.append(em.nodes[-1].name)
        else:
            c = ig
        cells.append(c)
        tc = em.node("Tanh", [c], bh, f"{p}/cell_tanh")
        int16.append(em.nodes[-1].name)
        h = em.node("Mul", [gates["o"], tc], bh, f"{p}/hidden")
        steps.append(h)
    y, yh, yc = (list(node.outputs) + ["", "", ""])[:3]
    axes01 = em.const("axes01", [0, 1], np.int64)
    if y:
        parts = [em.node("Unsqueeze", [ht, axes01], (1, 1, batch, hidden), f"t{t}/y")
                 for t, ht in enumerate(steps)]
        em.node("Concat", parts, (seq, 1, batch, hidden), "Y", output=y, axis=0)
    if yh:
        em.node("Unsqueeze", [h, axis0], (1, batch, hidden), "Y_h", output=yh)
    if yc:
        em.node("Unsqueeze", [c, axis0], (1, batch, hidden), "Y_c", output=yc)
    em.commit(node)
    add_hint(graph, HINT_INT16, int16)
    add_hint(graph, HINT_LSTM, {node.name: {
        "x": x, "h0": h_init, "c0": c_init, "y": y, "y_h": yh, "y_c": yc,
        "h0_source": h0, "c0_source": c0,
        "w": gate_w, "r": gate_r, "b": gate_b, "hidden": steps, "cell": cells,
        "nodes": [n.name for n in em.nodes]}})


def run(graph: Graph) -> bool:
    changed = False
    for node in [n for n in graph.nodes if n.op_type == "LSTM" and not n.domain]:
        if _supported(graph, node):
            _unroll(graph, node)
            changed = True
    if changed:
        graph.remove_unused()
    return changed
