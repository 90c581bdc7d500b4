"""LSTM (ONNX LSTM-14): forward, reverse or bidirectional, with optional bias, sequence
lengths, initial state, peepholes, ``clip``, ``input_forget`` and ``layout``.

Per direction, with gate order ``i, o, f, c`` in ``W``/``R``/``B`` (ONNX spec) and default
activations ``f = Sigmoid``, ``g = h = Tanh``::

    gates = X_t W^T + H_{t-1} R^T + Wb + Rb          (input projection done once for all t)
    i = f(g_i + P_i * C_{t-1});  f_ = f(g_f + P_f * C_{t-1});  c~ = g(g_c)
    C_t = f_ * C_{t-1} + i * c~;  o = f(g_o + P_o * C_t);  H_t = o * h(C_t)

``clip`` clamps every activation input (peepholes included) to ``[-clip, clip]``; ``input_forget=1`` uses
``f_ = 1 - i`` (coupled gates). Steps at or past a batch entry's sequence length leave its
state unchanged and write zeros to ``Y`` (the reverse direction therefore starts at the
last valid step), matching onnxruntime's deep_cpu_lstm.
"""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import attr_str, optional, require_float, unsupported
from edgeq.interp.float_ops.sigmoid import sigmoid_array


def _activation(node, name: str, alpha, beta):
    name = name.decode() if isinstance(name, bytes) else name
    if name == "Sigmoid":
        return sigmoid_array
    if name == "Tanh":
        return np.tanh
    if name == "Relu":
        return lambda v: np.maximum(v, 0)
    if name == "HardSigmoid":
        a, b = (0.2 if alpha is None else alpha), (0.5 if beta is None else beta)
        return lambda v: np.clip(v * np.float32(a) + np.float32(b), 0, 1)
    if name == "LeakyRelu":
        a = 0.01 if alpha is None else alpha
        return lambda v: np.where(v >= 0, v, v * np.float32(a))
    raise unsupported(node, f"LSTM activation {name!r}")


def _activations(node, num_dir: int):
    names = node.attrs.get("activations") or ["Sigmoid", "Tanh", "Tanh"] * num_dir
    alphas = list(node.attrs.get("activation_alpha") or [])
    betas = list(node.attrs.get("activation_beta") or [])
    if len(names) != 3 * num_dir:
        raise ShapeError(f"node '{node.name}' (LSTM): {len(names)} activations for {num_dir} "
                         f"direction(s) (expected {3 * num_dir})")
    fns = []
    for i, name in enumerate(names):
        fns.append(_activation(node, name, alphas[i] if i < len(alphas) else None,
                               betas[i] if i < len(betas) else None))
    return [fns[3 * d:3 * d + 3] for d in range(num_dir)]


def _run_direction(x, w, r, b, p, h, c, lens, reverse, acts, clip, input_forget):
    """One direction over ``x [seq, batch, in]``; returns ``Y [seq, batch, H]``, H, C."""
    seq, batch, _ = x.shape
    hidden = r.shape[1]
    f, g, hact = acts
    proj = (x.reshape(seq * batch, -1) @ w.T).reshape(seq, batch, 4 * hidden)
    if b is not None:
        proj += b[:4 * hidden] + b[4 * hidden:]
    pi, po, pf = (p[:hidden], p[hidden:2 * hidden], p[2 * hidden:]) if p is not None else (None,) * 3
    y = np.zeros((seq, batch, hidden), dtype=x.dtype)
    steps = range(seq - 1, -1, -1) if reverse else range(seq)
    def pre(v):  # clip applies to the activation inputs, peepholes included
        return np.clip(v, -clip, clip) if clip is not None else v

    for t in steps:
        gates = proj[t] + h @ r.T
        gi, go, gf, gc = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
        i = f(pre(gi + pi * c if pi is not None else gi))
        if input_forget:
            fg = 1 - i
        else:
            fg = f(pre(gf + pf * c if pf is not None else gf))
        c_new = fg * c + i * g(pre(gc))
        o = f(pre(go + po * c_new if po is not None else go))
        h_new = o * hact(c_new)
        if lens is None:
            h, c = h_new, c_new
            y[t] = h_new
        else:
            active = (t < lens)[:, None]
            h = np.where(active, h_new, h)
            c = np.where(active, c_new, c)
            y[t] = np.where(active, h_new, 0)
    return y, h, c


@FLOAT_OPS.register("LSTM")
def lstm(node, inputs, ctx):
    x, w, r = inputs[0], inputs[1], inputs[2]
    b, lens, h0, c0, p = (optional(inputs, i) for i in range(3, 8))
    require_float(node, x, w, r, b, h0, c0, p)
    direction = attr_str(node, "direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise unsupported(node, f"direction={direction!r}")
    num_dir = 2 if direction == "bidirectional" else 1
    layout = int(node.attrs.get("layout", 0))
    if layout:
        x = x.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    seq, batch, _ = x.shape
    hidden = r.shape[-1]
    if w.shape[0] != num_dir or w.shape[1] != 4 * hidden or w.shape[2] != x.shape[2]:
        raise ShapeError(f"node '{node.name}' (LSTM): W {tuple(w.shape)} does not match "
                         f"[{num_dir}, {4 * hidden}, {x.shape[2]}] for input {tuple(x.shape)}")
    clip = node.attrs.get("clip")
    input_forget = bool(node.attrs.get("input_forget", 0))
    acts = _activations(node, num_dir)
    lens_arr = None if lens is None else lens.astype(np.int64).reshape(batch)
    if lens_arr is not None and (lens_arr == seq).all():
        lens_arr = None  # all full length: skip the masking
    zeros = np.zeros((num_dir, batch, hidden), dtype=x.dtype)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    ys, hs, cs = [], [], []
    for d in range(num_dir):
        reverse = direction == "reverse" or d == 1
        yd, hd, cd = _run_direction(
            x, w[d], r[d], None if b is None else b[d], None if p is None else p[d],
            h0[d], c0[d], lens_arr, reverse, acts[d], clip, input_forget)
        ys.append(yd)
        hs.append(hd)
        cs.append(cd)
    y = np.stack(ys, axis=1)          # [seq, num_dir, batch, H]
    y_h = np.stack(hs, axis=0)        # [num_dir, batch, H]
    y_c = np.stack(cs, axis=0)
    if layout:
        y = y.transpose(2, 0, 1, 3)   # [batch, seq, num_dir, H]
        y_h = y_h.transpose(1, 0, 2)  # [batch, num_dir, H]
        y_c = y_c.transpose(1, 0, 2)
    return [np.ascontiguousarray(a) for a in (y, y_h, y_c)][:max(len(node.outputs), 1)]
