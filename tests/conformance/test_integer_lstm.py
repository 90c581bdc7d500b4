"""The simulator's integer LSTM (edgeq/interp/integer_ops/_lstm8x8_16.py) against
LiteRT's ``UNIDIRECTIONAL_SEQUENCE_LSTM`` 8x8_16 kernel, bit for bit.

Each case writes a one-operator .tflite with random int8 weights, int32 biases and
scales (plugins/edgeq_tflite/emit/integer_lstm.py), runs it on LiteRT's reference
resolver and on the default one, and compares the output sequence and, where the
states are exposed as the model's inputs and outputs, the final hidden and cell state.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")

from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

from edgeq.interp.integer_ops._lstm8x8_16 import GATES, LstmQuant, run_lstm  # noqa: E402
from edgeq.types import QDType, QuantParams  # noqa: E402
from edgeq_tflite.emit.integer_lstm import IntegerLstmWeights, add_integer_lstm, add_weights  # noqa: E402
from edgeq_tflite.emit.writer import ModelWriter  # noqa: E402


def _case(seed: int, steps: int, batch: int, n_in: int, hidden: int, cell_log2: int,
          state_io: bool):
    rng = np.random.default_rng(seed)
    s_in, zp_in = float(rng.uniform(0.005, 0.05)), int(rng.integers(-20, 20))
    s_h, zp_h = float(rng.uniform(1 / 256, 1 / 64)), int(rng.integers(-10, 10))
    w = {k: rng.integers(-127, 128, (hidden, n_in)).astype(np.int8) for k in GATES}
    r = {k: rng.integers(-127, 128, (hidden, hidden)).astype(np.int8) for k in GATES}
    ws = {k: float(rng.uniform(0.001, 0.01)) for k in GATES}
    rs = {k: float(rng.uniform(0.001, 0.01)) for k in GATES}
    b = {k: rng.integers(-5000, 5000, hidden).astype(np.int32) for k in GATES}
    wr = ModelWriter()
    x = wr.add_tensor("x", np.int8, (steps, batch, n_in), quant=QuantParams(np.float32(s_in), zp_in, QDType.INT8))
    y = wr.add_tensor("y", np.int8, (steps, batch, hidden), quant=QuantParams(np.float32(s_h), zp_h, QDType.INT8))
    weights, biases = add_weights(wr, "lstm", IntegerLstmWeights(w, r, b, ws, rs), s_in)
    h_state, c_state = add_integer_lstm(wr, "lstm", x, y, weights, biases, cell_log2)
    wr.inputs = [x.index] + ([h_state.index, c_state.index] if state_io else [])
    wr.outputs = [y.index] + ([h_state.index, c_state.index] if state_io else [])
    feeds = [rng.integers(-128, 128, (steps, batch, n_in)).astype(np.int8)]
    if state_io:
        feeds += [rng.integers(-128, 128, (batch, hidden)).astype(np.int8),
                  rng.integers(-8000, 8000, (batch, hidden)).astype(np.int16)]
        h0, c0 = feeds[1], feeds[2]
    else:
        # variable tensors start at their zero point (Subgraph::ResetVariableTensors)
        h0, c0 = np.full((batch, hidden), zp_h, np.int8), np.zeros((batch, hidden), np.int16)
    q = LstmQuant(s_in, zp_in, tuple(ws[k] for k in GATES), tuple(rs[k] for k in GATES), s_h, zp_h,
                  cell_log2)
    return wr.finish(), feeds, run_lstm(feeds[0], h0, c0, w, r, b, q)


def _litert(model: bytes, feeds, resolver):
    it = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    for d, v in zip(it.get_input_details(), feeds):
        it.set_tensor(d["index"], v)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


@pytest.mark.parametrize("resolver", [OpResolverType.BUILTIN_REF, OpResolverType.BUILTIN],
                         ids=["reference", "builtin"])
@pytest.mark.parametrize("seed,steps,batch,n_in,hidden,cell_log2,state_io", [
    (0, 5, 2, 7, 6, -11, False),
    (1, 8, 1, 16, 12, -12, True),
    (2, 3, 3, 5, 4, -10, True),
    (3, 6, 1, 9, 8, -9, False),
    (4, 4, 1, 32, 16, -13, True),
])
def test_integer_lstm_bit_exact(resolver, seed, steps, batch, n_in, hidden, cell_log2, state_io):
    model, feeds, (y, h, c) = _case(seed, steps, batch, n_in, hidden, cell_log2, state_io)
    got = _litert(model, feeds, resolver)
    np.testing.assert_array_equal(got[0], y)
    # the case is not trivial: the outputs vary over time and are not saturated
    assert len(np.unique(y)) > 4 and np.mean(np.abs(y.astype(int)) >= 127) < 0.25
    if state_io:
        np.testing.assert_array_equal(got[1], h)
        np.testing.assert_array_equal(got[2], c)
        np.testing.assert_array_equal(h, y[-1])
