"""lstm (iOS15/17 ``recurrent.py``), gates in MIL's ``[input, forget, output, cell]``
order, peephole weights in ``[input, forget, output]`` order::

    i = σ(W_i x + R_i h + b_i + p_i · c_{t−1}),  f = σ(… + p_f · c_{t−1})
    z = g(W_z x + R_z h + b_z);  c_t = clip(f · c_{t−1} + i · z)
    o = σ(W_o x + R_o h + b_o + p_o · c_t);  h_t = o · a(c_t)

``σ``, ``g``, ``a``: ``recurrent_activation``, ``cell_activation``, ``activation``.
``clip`` bounds the cell state to ``[−clip, clip]``: MIL's definition says "cell gate",
and coremltools' NeuralNetwork backend passes it as ``cellClipThreshold``, "the limit on
the maximum and minimum values on the cell state" (``models/neural_network/builder.py``).
``direction``: ``forward``, ``reverse`` (the sequence read backwards, outputs in input
order) or ``bidirectional`` (``*_back`` weights for the reverse pass; states and
outputs are ``[forward | backward]`` along the last axis).

Each step computes in float64; the hidden and cell states are then stored in the op's
declared dtype (fp16 in an fp16 program), as a device keeps them between steps, so the
rounding of the state accumulates over the sequence as it does there. Returns
``(y, h, c)``: ``y`` every step's ``h`` (``output_sequence``) or the last one.

``hard_sigmoid`` and ``scaled_tanh`` are listed by the op but take parameters (alpha,
beta) that the lstm op does not carry and its definition does not give; a program using
them is refused naming the op (edgeq's emitter writes sigmoid and tanh).
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import UnsupportedOpError

from edgeq_coreml.verify.ops import OPS

_ACT = {"sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0.0), "linear": lambda v: v}


def _act(op, name):
    name = str(name)
    if name not in _ACT:
        raise UnsupportedOpError(f"program op '{op.name}' (lstm): activation {name!r} has parameters the "
                                 f"lstm op does not define; supported here: {', '.join(sorted(_ACT))}",
                                 op_type="lstm", nodes=[op.name])
    return _ACT[name]


def _run(x, w_ih, w_hh, bias, peephole, h, c, acts, clip, state, reverse):
    """One direction over ``x[s, b, I]``: (every step's h in input order, h, c)."""
    gate, cell_act, out_act = acts
    hidden = w_hh.shape[1]
    p_i, p_f, p_o = (np.zeros(hidden) if peephole is None else peephole[k * hidden:(k + 1) * hidden]
                     for k in range(3))
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    ys = [None] * x.shape[0]
    for t in steps:
        pre = x[t] @ w_ih.T + h @ w_hh.T + bias
        i, f, o, z = (pre[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c_new = gate(f + p_f * c) * c + gate(i + p_i * c) * cell_act(z)
        if clip is not None:
            c_new = np.clip(c_new, -clip, clip)
        c = c_new.astype(state).astype(np.float64)
        h = (gate(o + p_o * c) * out_act(c)).astype(state).astype(np.float64)
        ys[t] = h
    return np.stack(ys), h, c


@OPS.register("lstm")
def lstm(op, inputs, ctx):
    acts = (_act(op, inputs.get("recurrent_activation", "sigmoid")),
            _act(op, inputs.get("cell_activation", "tanh")), _act(op, inputs.get("activation", "tanh")))
    direction = str(inputs.get("direction", "forward"))
    if direction not in ("forward", "reverse", "bidirectional"):
        raise UnsupportedOpError(f"program op '{op.name}' (lstm): direction {direction!r} is not forward, "
                                 "reverse or bidirectional", op_type="lstm", nodes=[op.name])
    clip = None if inputs.get("clip") is None else float(inputs["clip"])
    # a kernel called without a program (tests) keeps the states in float32
    from edgeq_coreml.verify.interpreter import numpy_dtype  # (the interpreter imports OPS)

    state = numpy_dtype(op.outputs[1]) if getattr(op, "outputs", None) else np.dtype(np.float32)
    x = np.asarray(inputs["x"], np.float64)

    def weights(suffix: str):
        w_hh = np.asarray(inputs["weight_hh" + suffix], np.float64)
        bias = inputs.get("bias" + suffix)
        peep = inputs.get("peephole" + suffix)
        return (np.asarray(inputs["weight_ih" + suffix], np.float64), w_hh,
                np.zeros(4 * w_hh.shape[1]) if bias is None else np.asarray(bias, np.float64),
                None if peep is None else np.asarray(peep, np.float64))

    h0 = np.asarray(inputs["initial_h"], np.float64)
    c0 = np.asarray(inputs["initial_c"], np.float64)
    if direction == "bidirectional":
        hidden = h0.shape[-1] // 2
        fwd = _run(x, *weights(""), h0[:, :hidden], c0[:, :hidden], acts, clip, state, False)
        bwd = _run(x, *weights("_back"), h0[:, hidden:], c0[:, hidden:], acts, clip, state, True)
        ys, h, c = (np.concatenate(pair, axis=-1) for pair in zip(fwd, bwd))
        last = np.concatenate([fwd[0][-1], bwd[0][0]], axis=-1)  # each pass's final step
    else:
        ys, h, c = _run(x, *weights(""), h0, c0, acts, clip, state, direction == "reverse")
        last = h
    y = ys if bool(inputs.get("output_sequence", False)) else last[None]
    return [y.astype(np.float32), h.astype(np.float32), c.astype(np.float32)]
