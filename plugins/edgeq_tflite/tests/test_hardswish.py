"""HardSwish on TFLite: the quantizer writes it as MUL / ADD / MUL (edgeq/quantize/rewrites/hardswish.py)
because LiteRT's XNNPACK has no int8 HARD_SWISH.

Checked on a real ONNX model (Conv + HardSwish) through ``edgeq.quantize``: the float
meaning of the rewrite, the emitted operators, which of them XNNPACK takes (read from
the interpreter's delegate nodes), the integer simulator against LiteRT's reference
kernels bit for bit, XNNPACK within 1 LSB, and accuracy against onnxruntime.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeq
from edgeq_tflite.emit.export import export_quantized
from edgeq_tflite.spec import TFLITE_INT8
from edgeq_tflite.tests import harness

SHAPE = (1, 3, 12, 12)


def _hardswish(x):
    return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def _conv_hardswish_onnx(path):
    """Conv 3x3 (3 -> 8 channels, pre-activations spanning about ±8, past both knees of
    HardSwish at ±3) then HardSwish; output 'y' [1, 8, 12, 12]."""
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(8, 3, 3, 3)) * 1.2).astype(np.float32)
    b = rng.normal(size=8).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("HardSwish", ["c"], ["y"], name="hswish")]
    graph = helper.make_graph(
        nodes, "conv_hardswish", [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 8, 12, 12))],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def _feeds(n, seed):
    rng = np.random.default_rng(seed)
    return [{"x": rng.uniform(-1, 1, SHAPE).astype(np.float32)} for _ in range(n)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hardswish")
    model = edgeq.load(_conv_hardswish_onnx(tmp / "conv_hardswish.onnx"))
    kw = dict(progress=False, cache_dir=str(tmp / "cache"))
    calib = _feeds(16, seed=1)
    decomposed = edgeq.quantize(model, calib, spec=TFLITE_INT8, **kw)
    keep = dataclasses.replace(TFLITE_INT8, decompose_ops=frozenset())  # a target with a fast HARD_SWISH
    single = edgeq.quantize(model, calib, spec=keep, **kw)
    return model, decomposed, single


def _outside_xnnpack(model_bytes: bytes) -> tuple[int, list[str]]:
    """(number of XNNPACK partitions, op names LiteRT runs on its builtin kernels)."""
    from ai_edge_litert.interpreter import Interpreter

    from edgeq_tflite.runners.delegation import ops_outside_delegate

    it = Interpreter(model_content=model_bytes, num_threads=1)
    it.allocate_tensors()
    parts, counts = ops_outside_delegate(it)
    return parts, sorted(name for name, n in counts.items() for _ in range(n))


def test_quantized_graph_has_no_hardswish(built):
    _, decomposed, single = built
    assert "HardSwish" not in decomposed.graph.op_histogram()
    assert single.graph.op_histogram()["HardSwish"] == 1
    g = decomposed.graph
    producers = g.producers()
    mul = producers[producers["y"].inputs[0]]  # the Dequantize at the output reads it
    assert mul.op_type == "Mul"
    x, h = mul.inputs
    add = producers[h]
    s = add.inputs[0]
    # x / 6 keeps x's integers: same zero point, scale / 6 (the first MUL multiplier is 1)
    px, ps, ph = g.tensors[x].quant, g.tensors[s].quant, g.tensors[h].quant
    assert int(ps.zero_point[0]) == int(px.zero_point[0])
    assert abs(float(ps.scale[0]) * 6 / float(px.scale[0]) - 1) < 1e-6
    # HardSigmoid's output range is [0, 1]: the clamp is int8 saturation
    assert (float(ph.scale[0]), int(ph.zero_point[0])) == pytest.approx((1 / 255, -128))
    # the HardSwish output keeps its calibrated params
    py, py_single = g.tensors[mul.outputs[0]].quant, single.graph.tensors[mul.outputs[0]].quant
    assert float(py.scale[0]) == float(py_single.scale[0])
    assert int(py.zero_point[0]) == int(py_single.zero_point[0])


def test_xnnpack_runs_the_whole_model(built):
    _, decomposed, single = built
    exp = export_quantized(decomposed.graph, io_dtype="int8")
    assert "HARD_SWISH" not in exp.op_histogram
    assert exp.op_histogram["MUL"] == 2 and exp.op_histogram["ADD"] == 1
    assert _outside_xnnpack(exp.model) == (1, [])
    # the single op is what XNNPACK leaves to the builtin kernels (the reason for the rewrite)
    parts, outside = _outside_xnnpack(export_quantized(single.graph, io_dtype="int8").model)
    assert "HARD_SWISH" in outside


def _from_conv_output(qm):
    """The quantized graph after the Conv: the HardSwish input is an int8 graph input."""
    g = qm.graph.copy()
    x = next(n for n in g.nodes if n.op_type == "Conv").outputs[0]
    g.nodes = [n for n in g.nodes if n.op_type not in ("Quantize", "Conv")]
    g.inputs = [x]
    g.remove_unused()
    return g, x


def test_decomposition_bitexact_on_every_int8_input(built):
    """MUL/ADD/MUL alone, fed every int8 value: reference kernels == simulator, XNNPACK
    within 1 LSB (the per-operator bound of the conformance suite)."""
    _, decomposed, _ = built
    g, x = _from_conv_output(decomposed)
    feed = {x: np.resize(np.arange(-128, 128), g.tensors[x].shape).astype(np.int8)}
    exp = export_quantized(g, io_dtype="int8")
    ref = harness.litert(exp.model, feed, exp.inputs, exp.outputs, reference=True)
    xnn = harness.litert(exp.model, feed, exp.inputs, exp.outputs, reference=False)
    sim = harness.simulate(g, feed)
    for name in ref:
        np.testing.assert_array_equal(ref[name], sim[name])
        assert np.abs(xnn[name].astype(np.int64) - ref[name]).max() <= 1


def test_whole_model_bitexact_and_xnnpack_close(built):
    _, decomposed, single = built
    worst = {}
    for label, qm in (("decomposed", decomposed), ("single", single)):
        worst[label] = 0
        for feed in _feeds(3, seed=5):
            runs = harness.run_all(qm.graph, feed)
            sim = harness.simulate(qm.graph, runs.int_feeds)
            for name, ref in runs.reference.items():
                np.testing.assert_array_equal(ref, sim[name])
                worst[label] = max(worst[label], int(np.abs(runs.xnnpack[name].astype(np.int64) - ref).max()))
    # XNNPACK's CONV_2D is within 1 LSB of the reference; HardSwish's slope (up to ~1.1
    # output steps per input step here) can carry that to 2 LSB, with the single
    # HARD_SWISH as well
    assert worst["decomposed"] <= 2 and worst["single"] <= 2, worst


def test_accuracy_against_onnxruntime(built):
    model, decomposed, single = built
    feeds = _feeds(8, seed=9)
    ref = np.concatenate([model.run(f)["y"] for f in feeds])
    err = {}
    for label, qm in (("decomposed", decomposed), ("single", single)):
        out = np.concatenate([qm.run(f)["y"] for f in feeds])
        err[label] = float(np.sqrt(np.mean((out - ref) ** 2)))
    step = float(decomposed.graph.tensors[decomposed.graph.producers()["y"].inputs[0]].quant.scale[0])
    # one more rounding (the int8 HardSigmoid, step 1/255) costs less than an output step
    assert err["decomposed"] <= err["single"] + 0.5 * step, err
    assert err["decomposed"] <= step, err
