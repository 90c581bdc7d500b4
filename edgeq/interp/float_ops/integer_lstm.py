"""IntegerLSTM in float: what the fused integer LSTM node (edgeq/quantize/rewrites/
fuse_lstm.py) means, evaluated on its dequantized inputs.

Inputs ``X[T, …, B, I]``, ``h0``/``c0`` (``B·H`` values), ``W_i, W_f, W_c, W_o`` ``[H, I]``,
``R_i … R_o`` ``[H, H]``, ``B_i … B_o`` ``[H]`` (TFLite's gate order); outputs
``Y[T, 1, B, H]``, ``Y_h[1, B, H]``, ``Y_c[1, B, H]``::

    i, f, o = sigmoid(x W_k^T + h R_k^T + B_k);  g = tanh(x W_c^T + h R_c^T + B_c)
    c = f c + i g;  h = o tanh(c)
"""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float
from edgeq.interp.float_ops.sigmoid import sigmoid_array


@FLOAT_OPS.register("IntegerLSTM")
def integer_lstm(node, inputs, ctx):
    require_float(node, *inputs[:3])
    x = np.asarray(inputs[0], np.float32)
    w = [np.asarray(a, np.float32) for a in inputs[3:7]]
    r = [np.asarray(a, np.float32) for a in inputs[7:11]]
    b = [np.asarray(a, np.float32) for a in inputs[11:15]]
    hidden, steps = w[0].shape[0], x.shape[0]
    h = np.asarray(inputs[1], np.float32).reshape(-1, hidden)
    c = np.asarray(inputs[2], np.float32).reshape(-1, hidden)
    batch = h.shape[0]
    x = x.reshape(steps, batch, -1)
    ys = []
    for t in range(steps):
        pre = [x[t] @ w[k].T + h @ r[k].T + b[k] for k in range(4)]
        i, f, g, o = sigmoid_array(pre[0]), sigmoid_array(pre[1]), np.tanh(pre[2]), sigmoid_array(pre[3])
        c = f * c + i * g
        h = o * np.tanh(c)
        ys.append(h)
    outs = [np.stack(ys).reshape(steps, 1, batch, hidden), h.reshape(1, batch, hidden),
            c.reshape(1, batch, hidden)]
    return [o.astype(np.float32) for o in outs][:len(node.outputs)]
