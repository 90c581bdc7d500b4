"""Fold the quantized steps of an unrolled LSTM into one ``IntegerLSTM`` node, for targets
that list ``"LSTM"`` in ``QuantSpec.fused_ops`` (TFLite's integer
``UNIDIRECTIONAL_SEQUENCE_LSTM``; its arithmetic is edgeq/interp/integer_ops/_lstm8x8_16.py).

The LSTM is calibrated unrolled (edgeq/ir/passes/unroll_lstm.py records its tensors in
the ``HINT_LSTM`` hint), so every value the fused kernel needs has a calibrated range:

* input ``X``: the quantization the unrolled steps read (the Gather input);
* hidden state, output ``Y`` and ``Y_h``: the shared scale of the step outputs (they are
  concatenated into ``Y``, a same-scale group); the fused kernel requantizes
  ``o · tanh(c)`` straight to it (intermediate 4);
* cell state: int16 at ``2^k`` with the smallest ``k`` covering every step's calibrated
  cell range (``CheckedLog2`` in the kernel's Prepare: the scale must be a power of two);
  ``Y_c`` is the cell state;
* weights: the float gate matrices quantized again **per tensor** (the kernel reads one
  scale per matrix), symmetric int8; biases int32 at ``s_x · s_w`` of their gate.

The initial states (graph tensors) are requantized to the state's parameters by
``Quantize`` nodes. An LSTM without both initial states is left unrolled: the fused
kernel keeps its state in variable tensors that persist across invocations, so a zero
initial state has to be written by an operator each time.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.passes._emitter import HINT_LSTM, get_hint
from edgeq.quantize.arith import scheme
from edgeq.types import QDType, QuantParams

log = logging.getLogger(__name__)

#: the fused op's gate order (TFLite's: input, forget, cell, output)
GATES = ("i", "f", "c", "o")


def _group(q: Graph, names: set[str]) -> set[str]:
    """The unrolled nodes plus the converters between them (a Quantize of a group value
    whose every consumer is in the group)."""
    group = {n.name for n in q.nodes if n.name in names}
    producer = {o: n.name for n in q.nodes for o in n.outputs if o}
    consumers: dict[str, list[str]] = {}
    for n in q.nodes:
        for i in n.inputs:
            consumers.setdefault(i, []).append(n.name)
    changed = True
    while changed:
        changed = False
        for n in q.nodes:
            if n.name in group or n.op_type != "Quantize":
                continue
            users = [u for o in n.outputs for u in consumers.get(o, [])]
            if (producer.get(n.inputs[0]) in group and users and all(u in group for u in users)
                    and n.outputs[0] not in q.outputs):
                group.add(n.name)
                changed = True
    return group


def _same(a: QuantParams | None, b: QuantParams) -> bool:
    return a is not None and a.dtype == b.dtype and np.array_equal(a.scale, b.scale) \
        and np.array_equal(a.zero_point, b.zero_point)


def _cell_log2(q: Graph, cells: list[str]) -> int:
    peak = 0.0
    for c in cells:
        lo, hi = scheme.params_range(q.tensors[c].quant)
        peak = max(peak, abs(lo), abs(hi))
    # the smallest power-of-two scale whose int16 range covers the peak
    return math.ceil(math.log2(max(peak, 2.0 ** -20) / 32767.0))


def _fuse_one(q: Graph, fgraph: Graph, name: str, h: dict, weight_clip: str) -> bool:
    if not (h["h0"] and h["c0"]):
        log.info("LSTM %s has no initial state; left unrolled", name)
        return False
    group = _group(q, set(h["nodes"]))
    nodes = [n for n in q.nodes if n.name in group]
    produced = {o for n in nodes for o in n.outputs}
    by_output = {n.outputs[0]: n for n in nodes}
    gathers = [n for n in nodes if n.op_type == "Gather" and n.inputs[0] not in produced]
    if not gathers or h["h0"] not in by_output or h["c0"] not in by_output:
        return False
    x = gathers[0].inputs[0]
    h_src, c_src = by_output[h["h0"]].inputs[0], by_output[h["c0"]].inputs[0]
    used_outside = {i for n in q.nodes if n.name not in group for i in n.inputs} | set(q.outputs)
    external = [o for o in produced if o in used_outside]
    hidden_q = q.tensors[h["hidden"][-1]].quant
    outs = {"y": "", "y_h": "", "y_c": ""}

    def source(t: str) -> str:
        # through the group's converters (e.g. an int16 cell state requantized to the
        # int8 of a graph output)
        while t in by_output and by_output[t].op_type == "Quantize":
            t = by_output[t].inputs[0]
        return t

    for o in external:
        src = by_output[o]
        if src.op_type == "Concat":
            outs["y"] = o
        elif src.op_type == "Unsqueeze" and source(src.inputs[0]) == h["hidden"][-1] \
                and len(q.tensors[o].shape) == 3:
            outs["y_h"] = o
        elif src.op_type == "Unsqueeze" and source(src.inputs[0]) == h["cell"][-1]:
            outs["y_c"] = o
        else:
            log.info("LSTM %s: step tensor %s (%s of %s) is used outside the LSTM; left unrolled",
                     name, o, src.op_type, src.inputs)
            return False
    qx = q.tensors[x].quant
    if qx is None or q.tensors[x].dtype != np.int8 or hidden_q is None or hidden_q.dtype != QDType.INT8:
        return False
    cell_log2 = _cell_log2(q, h["cell"])
    cell_q = QuantParams(np.float32(2.0 ** cell_log2), 0, QDType.INT16)
    s_x = float(qx.scale[0])
    inputs = [x]
    # the states enter as [B, H] (the kernel's state shape): Squeeze, then requantize
    axes = q.unique_name(f"{name}/state_axes")
    q.tensors[axes] = Tensor(axes, np.int64, (1,), np.array([0], np.int64), None)
    state_nodes = []
    for role, src, qp, dtype in (("h0_state", h_src, hidden_q, np.int8), ("c0_state", c_src, cell_q, np.int16)):
        shape = tuple(q.tensors[src].shape)
        if len(shape) == 3:
            sq = q.unique_name(f"{name}/{role}_2d")
            q.tensors[sq] = Tensor(sq, q.tensors[src].dtype, shape[1:], None, q.tensors[src].quant)
            state_nodes.append(Node(q.unique_name(f"{name}/{role}_squeeze"), "Squeeze", [src, axes], [sq]))
            src, shape = sq, shape[1:]
        t = q.unique_name(f"{name}/{role}")
        q.tensors[t] = Tensor(t, dtype, shape, None, qp)
        state_nodes.append(Node(q.unique_name(f"{name}/{role}_requantize"), "Quantize", [src], [t]))
        inputs.append(t)
    consts = {}
    for kind in ("w", "r"):
        for k in GATES:
            wf = fgraph.const(h[kind][k])
            wp = scheme.weight_params(wf, None, weight_clip)
            t = q.unique_name(f"{name}/{kind.upper()}_{k}_per_tensor")
            q.tensors[t] = Tensor(t, np.int8, wf.shape, scheme.quantize_weight(wf, wp), wp)
            consts[(kind, k)] = (t, wp)
            inputs.append(t)
    for k in GATES:
        bf = fgraph.const(h["b"][k])
        wp = consts[("w", k)][1]
        bq, bscale = scheme.quantize_bias(bf, s_x, wp, False, name=h["b"][k])
        t = q.unique_name(f"{name}/B_{k}_fused")
        q.tensors[t] = Tensor(t, np.int32, bq.shape, bq, QuantParams(bscale, np.zeros(1, np.int64), QDType.INT32))
        inputs.append(t)
    first = q.nodes.index(nodes[0])
    new_nodes = state_nodes
    fused_outs, after = [], []
    readers = {}
    for n in q.nodes:
        if n.name not in group:
            for i in n.inputs:
                readers.setdefault(i, []).append(n)
    yc = outs["y_c"]
    if yc and yc not in q.outputs and all(r.op_type == "Dequantize" for r in readers.get(yc, [])):
        # a final cell state that is only dequantized (a graph output) keeps the int16 cell
        # parameters: more precise than a requantization, and no int8 operator reads the
        # state tensor (see the TFLite lowering: such a reader could be run early)
        q.tensors[yc] = Tensor(yc, np.int16, q.tensors[yc].shape, None, cell_q)
    for key, qp, dtype in (("y", hidden_q, np.int8), ("y_h", hidden_q, np.int8), ("y_c", cell_q, np.int16)):
        o = outs[key]
        if o and (q.tensors[o].dtype != dtype or not _same(q.tensors[o].quant, qp)):
            # the consumer wants other parameters (e.g. an int8 graph output): requantize
            t = q.unique_name(f"{name}/{key}_fused")
            q.tensors[t] = Tensor(t, dtype, q.tensors[o].shape, None, qp)
            after.append(Node(q.unique_name(f"{name}/{key}_requantize"), "Quantize", [t], [o]))
            o = t
        fused_outs.append(o)
    new_nodes.append(Node(name, "IntegerLSTM", inputs, fused_outs, {"cell_scale_log2": int(cell_log2)}))
    new_nodes += after
    q.nodes = [n for n in q.nodes[:first] if n.name not in group] + new_nodes + \
        [n for n in q.nodes[first:] if n.name not in group]
    log.info("LSTM %s fused: %d unrolled nodes -> IntegerLSTM (cell scale 2^%d)", name, len(nodes), cell_log2)
    return True


def apply(q: Graph, fgraph: Graph, lowered: Graph, weight_clip: str = "mse") -> list[str]:
    """Fuse every unrolled LSTM of ``q`` recorded in ``lowered``'s hints (in place);
    ``fgraph`` holds the float constants the build used. Returns the fused LSTMs."""
    fused = []
    for name, h in get_hint(lowered, HINT_LSTM, {}).items():
        if _fuse_one(q, fgraph, name, h, weight_clip):
            fused.append(name)
    if fused:
        q.toposort()
        q.remove_unused()
    return fused
