"""Whole (small) models through the emitter: a CNN and a transformer block, compared
with edgeq's integer simulator (bit for bit, reference kernels), XNNPACK and float."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import run_graph
from edgeq.sdk import executable

from edgeq_tflite.tests import harness


def _dequant(runs, name):
    q = runs.out_quant[name]
    return (runs.reference[name].astype(np.float64) - q["zero_point"][0]) * q["scale"][0]


@pytest.mark.parametrize("model", ["cnn", "transformer"])
def test_reference_kernels_equal_simulator(model, request):
    case = request.getfixturevalue(model)
    for feed in case.feeds[:2]:
        runs = harness.run_all(case.graph, feed)
        sim = harness.simulate(case.graph, runs.int_feeds)
        for name, ref in runs.reference.items():
            np.testing.assert_array_equal(ref, sim[name])


@pytest.mark.parametrize("model", ["cnn", "transformer"])
def test_xnnpack_close_to_reference(model, request):
    # each operator is within 1 LSB of the reference kernel (conformance suite); through
    # a whole model a 1-LSB difference can be amplified by the following layers
    case = request.getfixturevalue(model)
    runs = harness.run_all(case.graph, case.feeds[0])
    for name, ref in runs.reference.items():
        assert np.abs(runs.xnnpack[name].astype(np.int64) - ref).max() <= 3


@pytest.mark.parametrize("model,tol", [("cnn", 0.02), ("transformer", 0.05)])
def test_close_to_float_model(model, tol, request):
    case = request.getfixturevalue(model)
    runs = harness.run_all(case.graph, case.feeds[0])
    ref = run_graph(executable(case.float_graph), case.feeds[0])
    for name in runs.reference:
        err = np.abs(_dequant(runs, name) - ref[name]).max()
        assert err <= tol * max(1.0, np.abs(ref[name]).max()), err


def test_cnn_layout_and_versions(cnn):
    exp = harness.run_all(cnn.graph, cnn.feeds[0]).export
    assert exp.transposes == 0
    assert exp.op_histogram.get("TRANSPOSE", 0) == 0
    assert exp.op_versions["CONV_2D"] == 3
    assert exp.op_versions["DEPTHWISE_CONV_2D"] == 3
    assert exp.op_versions["FULLY_CONNECTED"] == 4
    assert exp.op_versions["MEAN"] == 2 and exp.op_versions["SOFTMAX"] == 2
    assert exp.min_runtime_version == "1.14.0"
    (spec,) = exp.inputs
    assert spec.layout == "NHWC" and spec.shape == (1, 32, 32, 3) and spec.source_shape == (1, 3, 32, 32)


def test_transformer_ops(transformer):
    exp = harness.run_all(transformer.graph, transformer.feeds[0]).export
    for op in ("FULLY_CONNECTED", "BATCH_MATMUL", "SOFTMAX", "GELU", "MEAN", "SQUARED_DIFFERENCE",
               "RSQRT"):
        assert op in exp.op_histogram, op
    # [1, seq, dim] runs as [seq, dim] and a RESHAPE: keep_num_dims (version 5) is avoided
    assert exp.op_versions["FULLY_CONNECTED"] == 4 and exp.op_histogram["RESHAPE"] >= 1
    assert exp.op_versions["GELU"] == 2
    assert exp.min_runtime_version == "2.9.0"  # GELU
