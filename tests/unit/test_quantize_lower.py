"""Lowering passes: the lowered graph (run by edgeq's float interpreter) computes what
onnxruntime computes on the original ONNX model, and the hints the quantizer needs are
recorded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _quant_models import make_model, ort_run, save
from onnx import helper

import edgeq
from edgeq.interp.float_interp import run_graph
from edgeq.quantize.rewrites.prepare import Hints, executable, lower

RNG = np.random.default_rng(0)


def f32(a):
    return np.asarray(a, np.float32)


def _check(tmp_path, model, feeds, atol=1e-5, rtol=1e-5):
    m = edgeq.load(save(model, tmp_path / "m.onnx"))
    lowered = lower(m.graph)
    for feed in feeds:
        ref = ort_run(model, feed)
        out = run_graph(executable(lowered), feed)
        for name, r in ref.items():
            np.testing.assert_allclose(out[name], r, atol=atol, rtol=rtol, err_msg=name)
    return lowered


def test_layernorm_decomposition(tmp_path):
    init = {"g": f32(RNG.normal(size=6)), "b": f32(RNG.normal(size=6))}
    model = make_model([helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)],
                       inputs={"x": (2, 3, 6)}, outputs={"y": (2, 3, 6)}, initializers=init)
    lowered = _check(tmp_path, model, [{"x": f32(RNG.normal(size=(2, 3, 6)) * 3 + 1)}])
    ops = lowered.op_histogram()
    assert "LayerNormalization" not in ops and ops["Rsqrt"] == 1 and ops["ReduceMean"] == 2
    # the statistics path: mean, centered, squared, variance, +eps, rstd, normalized
    assert len(Hints(lowered).int16) == 7


@pytest.mark.parametrize("with_state", [True, False])
def test_lstm_unrolled(tmp_path, with_state):
    seq, batch, inp, hid = 5, 2, 3, 4
    init = {"W": f32(RNG.normal(size=(1, 4 * hid, inp)) * 0.5), "R": f32(RNG.normal(size=(1, 4 * hid, hid)) * 0.5),
            "B": f32(RNG.normal(size=(1, 8 * hid)) * 0.2)}
    inputs = {"X": (seq, batch, inp)}
    names = ["X", "W", "R", "B"]
    if with_state:
        inputs.update(h0=(1, batch, hid), c0=(1, batch, hid))
        names += ["", "h0", "c0"]
    model = make_model([helper.make_node("LSTM", names, ["Y", "Yh", "Yc"], hidden_size=hid)],
                       inputs=inputs, outputs={"Y": (seq, 1, batch, hid), "Yh": (1, batch, hid),
                                               "Yc": (1, batch, hid)}, initializers=init, opset=14)
    feed = {k: f32(RNG.normal(size=v)) for k, v in inputs.items()}
    lowered = _check(tmp_path, model, [feed])
    ops = lowered.op_histogram()
    assert "LSTM" not in ops
    # one FullyConnected per gate and step for x, plus one per gate for h where it exists;
    # without an initial cell state the forget gate of step 0 multiplies zero and is dropped
    expected = 4 * seq + 4 * seq if with_state else 4 * seq + 4 * (seq - 1) - 1
    assert ops["FullyConnected"] == expected
    int16 = Hints(lowered).int16
    assert any("cell" in n for n in int16) and not any("hidden" in n for n in int16)


def test_attention_mask_constants_are_clamped_and_hinted(tmp_path):
    init = {"neg": f32(-np.inf), "one": f32(1.0), "ax": np.array([1], np.int64)}
    nodes = [helper.make_node("Sub", ["one", "m"], ["inv"]),
             helper.make_node("Mul", ["inv", "neg"], ["bias"]),
             helper.make_node("Add", ["s", "bias"], ["z"]),
             helper.make_node("Softmax", ["z"], ["p"], axis=-1)]
    # (1 - m) * -inf is NaN where m = 1 in float; use a finite model for the reference
    model = make_model(nodes, inputs={"s": (2, 5), "m": (2, 5)}, outputs={"p": (2, 5)},
                       initializers={**init, "neg": f32(-1e9)})
    m = edgeq.load(save(model, tmp_path / "m.onnx"))
    m.graph.tensors["neg"].data = f32(-np.inf)
    lowered = lower(m.graph)
    assert Hints(lowered).mask_adds == [(lowered.producers()["z"].name, "s", "bias")]
    assert np.isfinite(lowered.const("neg")).all() and lowered.const("neg") == -1e4
    s = f32(RNG.normal(size=(2, 5)))
    mask = f32([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    out = run_graph(executable(lowered), {"s": s, "m": mask})["p"]
    ref = ort_run(model, {"s": s, "m": mask})["p"]
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, ref, atol=1e-6)


def test_l2_normalised_mean_pooling(tmp_path):
    init = {"ax": np.array([1], np.int64), "eps": f32(1e-9), "eps2": f32(1e-12)}
    nodes = [helper.make_node("Unsqueeze", ["mask", "ax2"], ["m3"]),
             helper.make_node("Mul", ["x", "m3"], ["xm"]),
             helper.make_node("ReduceSum", ["xm", "ax"], ["summed"], keepdims=0),
             helper.make_node("ReduceSum", ["mask", "ax"], ["count"], keepdims=1),
             helper.make_node("Max", ["count", "eps"], ["cc"]),
             helper.make_node("Div", ["summed", "cc"], ["mean"]),
             helper.make_node("ReduceL2", ["mean"], ["norm"], axes=[1], keepdims=1),
             helper.make_node("Max", ["norm", "eps2"], ["nc"]),
             helper.make_node("Div", ["mean", "nc"], ["y"])]
    model = make_model(nodes, inputs={"x": (1, 6, 8), "mask": (1, 6)}, outputs={"y": (1, 8)},
                       initializers={**init, "ax2": np.array([2], np.int64)}, opset=17)
    feed = {"x": f32(RNG.normal(size=(1, 6, 8))), "mask": f32([[1, 1, 1, 1, 0, 0]])}
    lowered = _check(tmp_path, model, [feed], atol=1e-6)
    ops = lowered.op_histogram()
    assert "Div" not in ops and "ReduceL2" not in ops and "ReduceSum" not in ops and ops["Rsqrt"] == 1


def test_div_pow_sqrt(tmp_path):
    init = {"c": f32(4.0), "two": f32(2.0)}
    nodes = [helper.make_node("Div", ["x", "c"], ["d"]), helper.make_node("Pow", ["d", "two"], ["p"]),
             helper.make_node("Sqrt", ["p"], ["y"])]
    model = make_model(nodes, inputs={"x": (3, 4)}, outputs={"y": (3, 4)}, initializers=init)
    x = f32(RNG.normal(size=(3, 4)))
    x[0, 0] = 0.0
    lowered = _check(tmp_path, model, [{"x": x}])
    ops = lowered.op_histogram()
    assert "Div" not in ops and "Pow" not in ops and "Sqrt" not in ops
    h = Hints(lowered)
    (r, src), = h.rsqrt_of.items()
    assert lowered.producers()[r].op_type == "Rsqrt" and lowered.producers()[src].op_type == "Mul"


@pytest.mark.parametrize("fold", [True, False])
def test_hardsigmoid(tmp_path, fold):
    init = {"w": f32(RNG.normal(size=(4, 3, 1, 1))), "b": f32(RNG.normal(size=4))}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]),
             helper.make_node("HardSigmoid", ["c"], ["h"], alpha=1 / 6, beta=0.5)]
    outputs = {"h": (1, 4, 2, 2)}
    if not fold:  # the conv output is read twice: no folding
        nodes.append(helper.make_node("Mul", ["c", "h"], ["y"]))
        outputs["y"] = (1, 4, 2, 2)
    model = make_model(nodes, inputs={"x": (1, 3, 2, 2)}, outputs=outputs, initializers=init)
    lowered = _check(tmp_path, model, [{"x": f32(RNG.normal(size=(1, 3, 2, 2)) * 4)}])
    ops = lowered.op_histogram()
    assert "HardSigmoid" not in ops
    assert ("Add" in ops) != fold


def test_conv1d_becomes_conv2d(tmp_path):
    init = {"w": f32(RNG.normal(size=(5, 3, 3))), "b": f32(RNG.normal(size=5))}
    model = make_model([helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 2], strides=[2],
                                         dilations=[1], kernel_shape=[3])],
                       inputs={"x": (2, 3, 11)}, outputs={"y": None}, initializers=init)
    lowered = _check(tmp_path, model, [{"x": f32(RNG.normal(size=(2, 3, 11)))}])
    conv = next(n for n in lowered.nodes if n.op_type == "Conv")
    assert lowered.const(conv.inputs[1]).ndim == 4 and conv.attrs["pads"] == [0, 1, 0, 2]


def test_lowering_is_deterministic():
    from _quant_models import tiny_transformer
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        m = edgeq.load(save(tiny_transformer(), Path(d) / "t.onnx"))
    a, b = lower(m.graph), lower(m.graph)
    assert [n.name for n in a.nodes] == [n.name for n in b.nodes]
    assert sorted(a.tensors) == sorted(b.tensors)
    assert math.isfinite(len(a.nodes))
