"""Writes TFLite's integer ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (the 8x8_16 kernel).

The operator's 24 inputs (kernels/lstm_shared.h): 0 input; 1-4 input-to-{input, forget,
cell, output} weights; 5-8 recurrent-to-{…} weights; 9-11 peepholes (omitted); 12-15
gate biases; 16-17 projection (omitted); 18 output state and 19 cell state (variable
tensors: the kernel reads and overwrites them in place, ``GetVariableInput``); 20-23
layer-norm coefficients (omitted). The integer path needs five ``intermediates``
(unidirectional_sequence_lstm.cc ``Prepare``: ``num_intermediate_tensors == 5``): 0-3
the gate pre-activations, whose scales the kernel reads only with layer norm (without
it they are Q3.12, ``2^-12``), and 4 the hidden value ``o · tanh(c)``, which without
projection is the output state (same scale and zero point).

Weights are int8, symmetric, **per tensor** (the kernel reads ``params.scale``); biases
int32 at ``s_in · s_w``; the cell state int16 at a power-of-two scale, zero point 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.sdk import QDType, QuantParams

from edgeq_tflite.emit.schema import BuiltinOperator as B
from edgeq_tflite.emit.schema import schema
from edgeq_tflite.emit.writer import ModelWriter, TensorInfo

#: gate order of the operator's weight and bias inputs
GATES = ("i", "f", "c", "o")


@dataclass(frozen=True)
class IntegerLstmWeights:
    """Quantized weights of one LSTM: per gate ``w[k][H, I]``, ``r[k][H, H]`` (int8),
    their per-tensor scales and ``b[k][H]`` (int32 at input scale · ``w_scale[k]``)."""

    w: dict
    r: dict
    b: dict
    w_scale: dict
    r_scale: dict


def _per_tensor(scale: float, dtype: QDType, zero_point: int = 0) -> QuantParams:
    return QuantParams(np.float32(scale), np.int64(zero_point), dtype)


def add_weights(writer: ModelWriter, name: str, weights: IntegerLstmWeights,
                input_scale: float) -> tuple[list[int], list[int]]:
    """Constant tensors of ``weights``: ``(8 weight indices, 4 bias indices)`` in the
    operator's order."""

    def const(role: str, data, scale: float, dtype: QDType) -> int:
        return writer.add_constant(f"{name}/{role}", np.asarray(data),
                                   quant=_per_tensor(scale, dtype)).index

    w = [const(f"input_to_{k}", weights.w[k], weights.w_scale[k], QDType.INT8) for k in GATES]
    w += [const(f"recurrent_to_{k}", weights.r[k], weights.r_scale[k], QDType.INT8) for k in GATES]
    b = [const(f"{k}_bias", weights.b[k].astype(np.int32), input_scale * weights.w_scale[k], QDType.INT32)
         for k in GATES]
    return w, b


def add_integer_lstm(writer: ModelWriter, name: str, x: TensorInfo, y: TensorInfo,
                     weights: list[int], biases: list[int], cell_scale_log2: int, *,
                     output_state: TensorInfo | None = None,
                     cell_state: TensorInfo | None = None) -> tuple[TensorInfo, TensorInfo]:
    """Append the operator computing ``y[T, B, H]`` from ``x[T, B, I]`` (time major).

    ``weights`` are the 8 weight tensors (input-to-gate, then recurrent-to-gate, gates
    i, f, c, o) and ``biases`` the 4 gate biases. ``y``'s quantization is the output
    state's and the hidden intermediate's. The state tensors are created (they start at
    their zero point at allocation, ``ResetVariableTensors``) unless given, and are
    marked variable either way; returns ``(output_state, cell_state)``.
    """
    assert x.quant is not None and y.quant is not None, "the integer LSTM needs quantized I/O"
    batch, hidden = int(x.shape[1]), int(y.shape[-1])
    if output_state is None:
        output_state = writer.add_tensor(writer.unique_name(f"{name}/output_state"), np.int8,
                                         (batch, hidden), quant=y.quant, variable=True)
    if cell_state is None:
        cell_state = writer.add_tensor(writer.unique_name(f"{name}/cell_state"), np.int16,
                                       (batch, hidden), variable=True,
                                       quant=_per_tensor(2.0 ** cell_scale_log2, QDType.INT16))
    writer.mark_variable(output_state.index)
    writer.mark_variable(cell_state.index)
    inputs = ([x.index] + list(weights[:4]) + list(weights[4:]) + [-1, -1, -1] + list(biases)
              + [-1, -1] + [output_state.index, cell_state.index] + [-1, -1, -1, -1])
    gate_q = _per_tensor(2.0 ** -12, QDType.INT16)
    intermediates = [writer.add_tensor(writer.unique_name(f"{name}/{k}_gate_intermediate"), np.int16,
                                       (), quant=gate_q).index for k in GATES]
    intermediates.append(writer.add_tensor(writer.unique_name(f"{name}/hidden_intermediate"), np.int8,
                                           (), quant=y.quant).index)
    options = schema.UnidirectionalSequenceLSTMOptionsT()
    options.fusedActivationFunction = schema.ActivationFunctionType.TANH
    options.timeMajor = True
    writer.add_operator(B.UNIDIRECTIONAL_SEQUENCE_LSTM, inputs, [y.index], options=options,
                        version=1, intermediates=intermediates)
    return output_state, cell_state
