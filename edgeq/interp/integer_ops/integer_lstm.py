"""IntegerLSTM: a whole LSTM as TFLite's integer ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (8x8_16),
the node edgeq/quantize/rewrites/fuse_lstm.py makes of an unrolled LSTM.

Inputs: ``X[T, 1?, B, I]`` or ``X[T, B, I]`` (int8), the initial hidden state (int8, at
the output's parameters) and cell state (int16, scale ``2^cell_scale_log2``), then the
int8 per-tensor weights ``W_i, W_f, W_c, W_o`` (``[H, I]``), ``R_i … R_o`` (``[H, H]``)
and the int32 biases ``B_i … B_o``. Outputs ``Y[T, 1, B, H]``, ``Y_h[1, B, H]`` and
``Y_c[1, B, H]`` (any may be absent). The arithmetic is in ``_lstm8x8_16.py``.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import in_quant, out_quant, per_tensor, require_int, unsupported
from edgeq.interp.integer_ops._lstm8x8_16 import GATES, LstmQuant, run_lstm


@INTEGER_OPS.register("IntegerLSTM")
def integer_lstm(node, inputs, ctx):
    x, h0, c0 = inputs[0], inputs[1], inputs[2]
    require_int(node, [x, h0], (np.dtype(np.int8),))
    require_int(node, [c0], (np.dtype(np.int16),))
    if len(inputs) != 15:
        raise unsupported(node, f"needs 15 inputs (X, h0, c0, 4 W, 4 R, 4 B), got {len(inputs)}")
    w = dict(zip(GATES, inputs[3:7]))
    r = dict(zip(GATES, inputs[7:11]))
    b = dict(zip(GATES, inputs[11:15]))
    s_x, zp_x = per_tensor(node, in_quant(ctx, node, 0), "the input")
    s_h, zp_h = per_tensor(node, in_quant(ctx, node, 1), "the hidden state")
    ws = tuple(float(per_tensor(node, in_quant(ctx, node, 3 + j), f"W_{k}")[0]) for j, k in enumerate(GATES))
    rs = tuple(float(per_tensor(node, in_quant(ctx, node, 7 + j), f"R_{k}")[0]) for j, k in enumerate(GATES))
    for i, o in enumerate(node.outputs[:2]):
        if o and per_tensor(node, out_quant(ctx, node, i), "an output") != (s_h, zp_h):
            raise unsupported(node, "Y and Y_h must have the hidden state's scale and zero point")
    steps, hidden = x.shape[0], w["i"].shape[0]
    batch = h0.size // hidden
    q = LstmQuant(float(s_x), zp_x, ws, rs, float(s_h), zp_h, int(node.attrs["cell_scale_log2"]))
    y, h_t, c_t = run_lstm(x.reshape(steps, batch, -1), h0.reshape(batch, hidden),
                           c0.reshape(batch, hidden), w, r, b, q)
    return [y.reshape(steps, 1, batch, hidden), h_t.reshape(1, batch, hidden),
            c_t.reshape(1, batch, hidden)][:len(node.outputs)]
