"""IntegerLSTM -> UNIDIRECTIONAL_SEQUENCE_LSTM (the integer 8x8_16 kernel,
plugins/edgeq_tflite/emit/integer_lstm.py describes its inputs).

The initial states are the node's inputs 1 and 2, written each invocation by the
QUANTIZE operators before it (edgeq/quantize/rewrites/fuse_lstm.py inserts them); the
same tensors become the kernel's variable state, which it overwrites with the final
hidden and cell state, so ``Y_h`` and ``Y_c`` are RESHAPEs of the state tensors read
after the operator. ``Y[T, 1, B, H]`` is a RESHAPE of the kernel's ``[T, B, H]`` output.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.integer_lstm import add_integer_lstm
from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import reshape


@register("IntegerLSTM")
def lower_integer_lstm(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    h0, c0 = ctx.tensor(node.inputs[1]), ctx.tensor(node.inputs[2])
    if x.dtype != np.int8 or h0.dtype != np.int8 or c0.dtype != np.int16:
        raise ctx.unsupported(node, "the integer LSTM needs an int8 input and hidden state and an "
                                    "int16 cell state")
    for name in node.inputs[3:]:
        if ctx.ir(name).data is None:
            raise ctx.unsupported(node, f"weight/bias '{name}' must be a constant")
    weights = [ctx.tensor(n).index for n in node.inputs[3:11]]
    biases = [ctx.tensor(n).index for n in node.inputs[11:15]]
    steps, hidden = int(x.shape[0]), int(ctx.ir(node.inputs[3]).shape[0])
    batch = int(np.prod(h0.shape)) // hidden
    if len(x.shape) != 3:
        x = reshape(ctx, x, (steps, batch, int(x.shape[-1])))
    y3 = ctx.new(f"{node.name}/sequence", np.int8, (steps, batch, hidden), h0.quant)
    if tuple(h0.shape) != (batch, hidden) or tuple(c0.shape) != (batch, hidden):
        # a state reshaped by RESHAPE would alias its input's buffer, not be the state
        raise ctx.unsupported(node, f"the states must be [batch, hidden] = [{batch}, {hidden}] "
                                    f"tensors written before the operator; got {h0.shape}, {c0.shape}")
    h_state, c_state = h0, c0
    add_integer_lstm(ctx.writer, node.name, x, y3, weights, biases, int(node.attrs["cell_scale_log2"]),
                     output_state=h_state, cell_state=c_state)
    outs = list(node.outputs) + ["", "", ""]
    for out, src in ((outs[0], y3), (outs[1], h_state), (outs[2], c_state)):
        if out:
            reshape(ctx, src, ctx.ir(out).shape, out=ctx.tensor(out))
