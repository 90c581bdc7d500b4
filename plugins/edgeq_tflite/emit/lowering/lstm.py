"""IntegerLSTM -> UNIDIRECTIONAL_SEQUENCE_LSTM (the integer 8x8_16 kernel,
plugins/edgeq_tflite/emit/integer_lstm.py describes its inputs).

The initial states are the node's inputs 1 and 2, written each invocation by the
QUANTIZE operators before it (edgeq/quantize/rewrites/fuse_lstm.py inserts them); the
same tensors become the kernel's variable state, which it overwrites with the final
hidden and cell state. ``Y[T, 1, B, H]`` is a RESHAPE of the kernel's ``[T, B, H]``
output, ``Y_h`` its last step (SLICE) and ``Y_c`` a RESHAPE of the cell state tensor.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.integer_lstm import add_integer_lstm
from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts, reshape
from edgeq_tflite.emit.schema import BuiltinOperator as B


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
    if outs[0]:
        reshape(ctx, y3, ctx.ir(outs[0]).shape, out=ctx.tensor(outs[0]))
    if outs[1] or outs[2]:
        last = ctx.new(f"{node.name}/last_step", np.int8, (1, batch, hidden), h0.quant)
        ctx.op(B.SLICE, [y3, ctx.int32_vector(f"{node.name}/last_begin", (steps - 1, 0, 0)),
                         ctx.int32_vector(f"{node.name}/last_size", (1, batch, hidden))], [last])
    if outs[1]:
        # Y_h is Y's last step, read through a data dependency on the operator's output:
        # an op reading the state tensor depends on the LSTM only through the in-place
        # update, which delegates (XNNPACK) do not see, and could run before it
        reshape(ctx, last, ctx.ir(outs[1]).shape, out=ctx.tensor(outs[1]))
    if outs[2]:
        # the final cell state exists only in the state tensor, which the operator updates
        # in place. A reader of it depends on the LSTM only through that update, which
        # LiteRT's partitioning does not see: with XNNPACK applied, the reader (or what
        # consumes it) may be scheduled before the LSTM (measured: Y_c read as zeros). So
        # the read is tied to the operator's output: CONCATENATION([cell state, the last
        # step of Y requantized to the cell's int16 parameters]) then SLICE of the first
        # row (int16 CONCATENATION needs equal input and output parameters).
        last16 = ctx.new(f"{node.name}/last_step_int16", np.int16, (batch, hidden), c_state.quant)
        last2d = reshape(ctx, last, (batch, hidden))
        ctx.op(B.QUANTIZE, [last2d], [last16])
        both = ctx.new(f"{node.name}/cell_and_last_step", np.int16, (2 * batch, hidden), c_state.quant)
        ctx.op(B.CONCATENATION, [c_state, last16], [both], opts("ConcatenationOptions", axis=0))
        copy = ctx.new(f"{node.name}/final_cell_state", np.int16, (batch, hidden), c_state.quant)
        ctx.op(B.SLICE, [both, ctx.int32_vector(f"{node.name}/cell_begin", (0, 0)),
                         ctx.int32_vector(f"{node.name}/cell_size", (batch, hidden))], [copy])
        reshape(ctx, copy, ctx.ir(outs[2]).shape, out=ctx.tensor(outs[2]))
