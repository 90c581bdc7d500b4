"""IntegerLSTM (the quantizer's fused LSTM, edgeq/quantize/rewrites/fuse_lstm.py) -> MIL
``lstm`` (iOS17 opset: fp16 or fp32; ``coremltools/converters/mil/mil/ops/defs/iOS17/
recurrent.py``).

The fused node holds what the whole LSTM needs: the int8 input and initial hidden state,
the int16 initial cell state, per-gate int8 weight matrices with one scale each and the
int32 biases at ``s_x · s_w``. In the program:

* ``x``, ``h0`` are real values (after their ``dequantize``), ``c0`` is fp16 (an int16
  tensor has no Core ML type, spec.py);
* ``weight_ih`` / ``weight_hh``: the four gate matrices stacked in MIL's gate order
  ``[input, forget, output, cell]`` (the op's docstring: "ifoz layout") — edgeq's order
  is TFLite's ``i, f, c, o`` — stored int8 in one ``constexpr_affine_dequantize`` per
  matrix with a per-row scale (each gate's scale repeated over its ``H`` rows), so the
  file keeps one byte per weight;
* ``bias``: the int32 biases dequantized (one real bias per gate: ONNX's ``Wb + Rb`` were
  summed by the quantizer);
* sigmoid gates, tanh cell and output activations (ONNX's defaults, which the unrolled
  form and the fused kernel implement); the outputs ``Y[T, 1, B, H]``, ``Y_h``, ``Y_c``
  ``[1, B, H]`` are bound like any other tensor (``Y``, ``Y_h`` quantized to the hidden
  state's int8 parameters, ``Y_c`` fp16).

The LSTM computes in fp16 on the device, as every int16 tensor of the program does; the
ANE pre-flight flags the op (rule ``rnn``): Core ML runs recurrent layers off the Neural
Engine. A profile with ``unroll_lstm: true`` keeps the unrolled cell ops instead.
"""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS

#: edgeq's gate order (IntegerLSTM inputs) and MIL's
EDGEQ_GATES = ("i", "f", "c", "o")
MIL_GATES = ("i", "f", "o", "c")


def _stacked(ctx, names: dict[str, str]):
    """The four int8 gate matrices as one ``[4H, K]`` int8 constant, per-row scales."""
    data, scales = [], []
    for g in MIL_GATES:
        t = ctx.ir(names[g])
        q = t.quant
        if q is None or np.asarray(q.scale).size != 1 or int(np.asarray(q.zero_point).reshape(-1)[0]) != 0:
            raise ValueError(f"gate matrix '{names[g]}' is not symmetric per-tensor int8")
        w = np.asarray(t.data)
        data.append(w)
        scales.append(np.full(w.shape[0], float(np.asarray(q.scale).reshape(-1)[0]), np.float32))
    stacked, scale = np.concatenate(data, axis=0).astype(np.int8), np.concatenate(scales)
    ctx.int8_weights.append(names["i"])
    # a scalar zero point (all are 0) beside the per-row scale: 4H bytes less per matrix
    return ctx.mb.constexpr_affine_dequantize(quantized_data=stacked, zero_point=np.int8(0),
                                              scale=scale, axis=0)


def _shaped(mb, var, shape: list[int]):
    """``var`` reshaped to ``shape``, without an op when it has that shape already (every
    op costs the program ~100 bytes)."""
    if tuple(getattr(var, "shape", ())) == tuple(shape):
        return var
    return mb.reshape(x=var, shape=shape)


@LOWERINGS.register("IntegerLSTM")
def lower_integer_lstm(ctx, node):
    mb = ctx.mb
    if len(node.inputs) != 15:
        raise ctx.unsupported(node, f"needs 15 inputs (X, h0, c0, 4 W, 4 R, 4 B), got {len(node.inputs)}")
    w = dict(zip(EDGEQ_GATES, node.inputs[3:7]))
    r = dict(zip(EDGEQ_GATES, node.inputs[7:11]))
    b = dict(zip(EDGEQ_GATES, node.inputs[11:15]))
    hidden, features = ctx.ir(w["i"]).shape
    x_shape = tuple(ctx.ir(node.inputs[0]).shape)
    steps = x_shape[0]
    batch = int(np.prod(x_shape[1:-1]))
    try:
        weight_ih, weight_hh = _stacked(ctx, w), _stacked(ctx, r)
    except ValueError as exc:
        raise ctx.unsupported(node, str(exc)) from None
    bias = np.concatenate([ctx.real_const(b[g]).astype(np.float32).reshape(-1) for g in MIL_GATES])
    x = _shaped(mb, ctx.value(node.inputs[0]), [steps, batch, features])
    h0 = _shaped(mb, ctx.value(node.inputs[1]), [batch, hidden])
    c0 = _shaped(mb, ctx.value(node.inputs[2]), [batch, hidden])
    y, h, c = mb.lstm(x=x, initial_h=h0, initial_c=c0, weight_ih=weight_ih, weight_hh=weight_hh,
                      bias=bias, direction="forward", output_sequence=True,
                      recurrent_activation="sigmoid", cell_activation="tanh", activation="tanh")
    shapes = ([steps, 1, batch, hidden], [1, batch, hidden], [1, batch, hidden])
    for out, var, shape in zip(node.outputs, (y, h, c), shapes):
        if out:
            ctx.set(out, _shaped(mb, var, shape))
