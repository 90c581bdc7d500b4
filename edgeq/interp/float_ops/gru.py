"""GRU (ONNX GRU-14): forward, reverse or bidirectional, with optional bias, sequence
lengths, initial state, ``linear_before_reset``, ``clip`` and ``layout``.

Per direction, gate order ``z, r, h`` in ``W``/``R``/``B`` (ONNX spec), activations
``f = Sigmoid``, ``g = Tanh`` by default::

    z = f(X_t Wz^T + H_{t-1} Rz^T + Wbz + Rbz)
    r = f(X_t Wr^T + H_{t-1} Rr^T + Wbr + Rbr)
    h~ = g(X_t Wh^T + (r * H_{t-1}) Rh^T + Rbh + Wbh)        linear_before_reset = 0
    h~ = g(X_t Wh^T + r * (H_{t-1} Rh^T + Rbh) + Wbh)        linear_before_reset = 1
    H_t = (1 - z) * h~ + z * H_{t-1}

The input projection is done once for all steps. ``clip`` clamps every activation
input. Steps at or past a batch entry's sequence length keep its state and write zeros
to ``Y``, as for LSTM (onnxruntime's deep_cpu_gru).
"""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import attr_str, optional, require_float, unsupported
from edgeq.interp.float_ops.lstm import _activation


def _run_direction(x, w, r, b, h, lens, reverse, acts, clip, linear_before_reset):
    seq, batch, _ = x.shape
    hidden = r.shape[1]
    f, g = acts
    proj = (x.reshape(seq * batch, -1) @ w.T).reshape(seq, batch, 3 * hidden)
    wb = b[:3 * hidden] if b is not None else np.zeros(3 * hidden, x.dtype)
    rb = b[3 * hidden:] if b is not None else np.zeros(3 * hidden, x.dtype)
    proj += wb
    rz, rr, rh = (r[k * hidden:(k + 1) * hidden] for k in range(3))
    rbz, rbr, rbh = (rb[k * hidden:(k + 1) * hidden] for k in range(3))

    def pre(v):
        return np.clip(v, -clip, clip) if clip is not None else v

    y = np.zeros((seq, batch, hidden), dtype=x.dtype)
    for t in (range(seq - 1, -1, -1) if reverse else range(seq)):
        pz, pr, ph = (proj[t][:, k * hidden:(k + 1) * hidden] for k in range(3))
        z = f(pre(pz + h @ rz.T + rbz))
        rg = f(pre(pr + h @ rr.T + rbr))
        if linear_before_reset:
            cand = g(pre(ph + rg * (h @ rh.T + rbh)))
        else:
            cand = g(pre(ph + (rg * h) @ rh.T + rbh))
        h_new = (1 - z) * cand + z * h
        if lens is None:
            h = h_new
            y[t] = h_new
        else:
            active = (t < lens)[:, None]
            h = np.where(active, h_new, h)
            y[t] = np.where(active, h_new, 0)
    return y, h


@FLOAT_OPS.register("GRU")
def gru(node, inputs, ctx):
    x, w, r = inputs[0], inputs[1], inputs[2]
    b, lens, h0 = (optional(inputs, i) for i in range(3, 6))
    require_float(node, x, w, r, b, h0)
    direction = attr_str(node, "direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise unsupported(node, f"direction={direction!r}")
    num_dir = 2 if direction == "bidirectional" else 1
    layout = int(node.attrs.get("layout", 0))
    if layout:
        x = x.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
    seq, batch, _ = x.shape
    hidden = r.shape[-1]
    if w.shape[0] != num_dir or w.shape[1] != 3 * hidden or w.shape[2] != x.shape[2]:
        raise ShapeError(f"node '{node.name}' (GRU): W {tuple(w.shape)} does not match "
                         f"[{num_dir}, {3 * hidden}, {x.shape[2]}] for input {tuple(x.shape)}")
    names = node.attrs.get("activations") or ["Sigmoid", "Tanh"] * num_dir
    if len(names) != 2 * num_dir:
        raise ShapeError(f"node '{node.name}' (GRU): {len(names)} activations for {num_dir} "
                         f"direction(s) (expected {2 * num_dir})")
    alphas = list(node.attrs.get("activation_alpha") or [])
    betas = list(node.attrs.get("activation_beta") or [])
    fns = [_activation(node, n, alphas[i] if i < len(alphas) else None, betas[i] if i < len(betas) else None)
           for i, n in enumerate(names)]
    clip = node.attrs.get("clip")
    lbr = bool(node.attrs.get("linear_before_reset", 0))
    lens_arr = None if lens is None else lens.astype(np.int64).reshape(batch)
    if lens_arr is not None and (lens_arr == seq).all():
        lens_arr = None
    h0 = np.zeros((num_dir, batch, hidden), dtype=x.dtype) if h0 is None else h0
    ys, hs = [], []
    for d in range(num_dir):
        reverse = direction == "reverse" or d == 1
        yd, hd = _run_direction(x, w[d], r[d], None if b is None else b[d], h0[d], lens_arr,
                                reverse, fns[2 * d:2 * d + 2], clip, lbr)
        ys.append(yd)
        hs.append(hd)
    y = np.stack(ys, axis=1)  # [seq, num_dir, batch, H]
    y_h = np.stack(hs, axis=0)
    if layout:
        y = y.transpose(2, 0, 1, 3)
        y_h = y_h.transpose(1, 0, 2)
    return [np.ascontiguousarray(a) for a in (y, y_h)][:max(len(node.outputs), 1)]
