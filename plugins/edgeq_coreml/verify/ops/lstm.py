"""lstm (iOS15/17 ``recurrent.py``): one direction, gates in MIL's ``[input, forget,
output, cell]`` order, no peephole or clip (what the emitter writes)::

    i, f, o = σ(W_i x + R_i h + b_i), σ(…f), σ(…o);  z = tanh(W_z x + R_z h + b_z)
    c_t = f · c_{t−1} + i · z;  h_t = o · tanh(c_t)

Each step computes in float64; the hidden and cell states are then stored in the op's
declared dtype (fp16 in an fp16 program), as a device keeps them between steps, so the
rounding of the state accumulates over the sequence as it does there. Returns
``(y, h, c)``: ``y`` every step's ``h`` (``output_sequence``) or the last one.
"""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS

_ACT = {"sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "tanh": np.tanh}


def _act(name) -> object:
    name = str(name if name is not None else "")
    if name not in _ACT:
        raise NotImplementedError(f"lstm activation {name!r} (the emitter writes sigmoid/tanh)")
    return _ACT[name]


@OPS.register("lstm")
def lstm(op, inputs, ctx):
    for unused in ("peephole", "weight_ih_back", "clip"):
        if inputs.get(unused) is not None:
            raise NotImplementedError(f"lstm with {unused} (the emitter does not write it)")
    if str(inputs.get("direction", "forward")) != "forward":
        raise NotImplementedError("lstm direction other than forward")
    gate = _act(inputs.get("recurrent_activation", "sigmoid"))
    cell_act = _act(inputs.get("cell_activation", "tanh"))
    out_act = _act(inputs.get("activation", "tanh"))
    x = np.asarray(inputs["x"], np.float64)
    w_ih = np.asarray(inputs["weight_ih"], np.float64)
    w_hh = np.asarray(inputs["weight_hh"], np.float64)
    hidden = w_hh.shape[1]
    bias = np.zeros(4 * hidden) if inputs.get("bias") is None else np.asarray(inputs["bias"], np.float64)
    from edgeq_coreml.verify.interpreter import numpy_dtype  # (the interpreter imports OPS)

    # a kernel called without a program (tests) keeps the states in float32
    state = numpy_dtype(op.outputs[1]) if getattr(op, "outputs", None) else np.dtype(np.float32)
    h = np.asarray(inputs["initial_h"], np.float64)
    c = np.asarray(inputs["initial_c"], np.float64)
    ys = []
    for t in range(x.shape[0]):
        pre = x[t] @ w_ih.T + h @ w_hh.T + bias
        i, f, o, z = (pre[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = (gate(f) * c + gate(i) * cell_act(z)).astype(state).astype(np.float64)
        h = (gate(o) * out_act(c)).astype(state).astype(np.float64)
        ys.append(h)
    y = np.stack(ys) if bool(inputs.get("output_sequence", False)) else h[None]
    return [y.astype(np.float32), h.astype(np.float32), c.astype(np.float32)]
