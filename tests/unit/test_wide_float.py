"""The ``tflite-cpu`` profile (``wide: float``, QuantSpec.wide_in_float): what the
quantizer would widen to int16 runs in float instead, the layers with weights keep int8
kernels, and LiteRT runs the artifact as edgeq's simulator does.

Each test builds the same model for ``tflite`` (integer-only) beside it, from the same
calibration, and checks what differs."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import make_model, save, small_cnn, cnn_feeds, tiny_transformer, transformer_feeds
from onnx import helper

import edgeq
from edgeq.errors import ConfigError
from edgeq.targets import get_target

pytest.importorskip("ai_edge_litert.interpreter")

RNG = np.random.default_rng(0)


def _build(tmp_path, model_path, feeds, name: str):
    from edgeq_tflite.runners.host import HostRunner
    from edgeq_tflite.target import build_artifact

    resolved = get_target(name)
    qm = edgeq.quantize(edgeq.load(model_path), feeds, spec=resolved.spec, progress=False,
                        cache_dir=str(tmp_path / "cache"))
    art = build_artifact(qm, tmp_path / name, resolved.build_options())
    return qm, art, HostRunner(delegate="xnnpack")


def _tflite_ops(art) -> list[tuple[str, list]]:
    """(operator, input dtypes) of every operator of the artifact, from LiteRT."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(art.file("model.tflite")), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    dtypes = {t["index"]: t["dtype"] for t in it.get_tensor_details()}
    return [(op["op_name"], [dtypes[i] for i in op["inputs"] if i >= 0]) for op in it._get_ops_details()]


def test_wide_float_needs_float_fallback():
    with pytest.raises(ConfigError, match="float_fallback"):
        get_target("tflite", {"wide": "float"})
    assert get_target("tflite-cpu").spec.wide_in_float
    assert not get_target("tflite").spec.wide_in_float


def test_transformer_statistics_and_residual_adds_in_float_weights_int8(tmp_path):
    path = save(tiny_transformer(), tmp_path / "tr.onnx")
    feeds = transformer_feeds(24)
    q16, art16, _ = _build(tmp_path, path, feeds, "tflite")
    qf, artf, runner = _build(tmp_path, path, feeds, "tflite-cpu")
    floats = {e["node"]: e for e in qf.report["float_nodes"]}
    assert floats and all("wide_in_float" in e["reason"] for e in floats.values())
    assert {e["op_type"] for e in floats.values()} >= {"ReduceMean", "Rsqrt", "Add"}
    assert not qf.report.get("int16_nodes")
    assert q16.report.get("int16_nodes") and not q16.report["float_nodes"]
    # the residual stream is rescaled per channel (its FullyConnected layers write int8)
    assert qf.report["residual_scaling"] and not q16.report["residual_scaling"]
    from edgeq_tflite.target import TFLiteTarget

    placed = {p.node: p for p in TFLiteTarget().check(qf.graph) if p.where == "float"}
    assert any(p.op_type == "ReduceMean" for p in placed.values())
    assert all("kept in float by the quantizer" in p.reason for p in placed.values()
               if p.op_type in ("ReduceMean", "Rsqrt", "Add"))
    fcs = [ins for op, ins in _tflite_ops(artf) if op == "FULLY_CONNECTED"]
    assert fcs and all(ins[0] == np.int8 and ins[1] == np.int8 for ins in fcs)
    assert any(op == "MEAN" and ins[0] == np.float32 for op, ins in _tflite_ops(artf))
    model = edgeq.load(path)
    for feed in transformer_feeds(4, seed=7):
        ref = model.run(feed)["pooled"]
        sim = qf.run(feed)["pooled"]
        got = runner.run(artf, feed)["pooled"]
        # LiteRT (XNNPACK's float kernels, its int8 rounding) against the simulator
        np.testing.assert_allclose(got, sim, atol=0.05 * np.abs(sim).max())
        cos = float(ref.ravel() @ got.ravel() / np.linalg.norm(ref) / np.linalg.norm(got))
        assert cos > 0.99, cos


def test_tflite_build_points_at_tflite_cpu_when_layers_read_int16(tmp_path, caplog):
    path = save(tiny_transformer(), tmp_path / "tr.onnx")
    feeds = transformer_feeds(16)
    with caplog.at_level("WARNING", logger="edgeq_tflite.target"):
        _build(tmp_path, path, feeds, "tflite")
    said = [r.getMessage() for r in caplog.records if "tflite-cpu" in r.getMessage()]
    assert len(said) == 1 and "read int16 activations" in said[0]
    caplog.clear()
    with caplog.at_level("WARNING", logger="edgeq_tflite.target"):
        _build(tmp_path, path, feeds, "tflite-cpu")
    assert not [r for r in caplog.records if "tflite-cpu" in r.getMessage()]


def test_magnitude_of_silence_is_zero_in_float(tmp_path):
    """sqrt(x² + y²), lowered to p · rsqrt(p): in float the Rsqrt's floor keeps 0 at 0."""
    n = helper.make_node
    model = make_model([n("Mul", ["x", "x"], ["xx"]), n("Mul", ["y", "y"], ["yy"]),
                        n("Add", ["xx", "yy"], ["p"]), n("Sqrt", ["p"], ["m"]),
                        n("Relu", ["m"], ["out"])],
                       inputs={"x": (1, 32), "y": (1, 32)}, outputs={"out": (1, 32)})
    path = save(model, tmp_path / "mag.onnx")
    feeds = [{"x": RNG.normal(size=(1, 32)).astype(np.float32),
              "y": RNG.normal(size=(1, 32)).astype(np.float32)} for _ in range(16)]
    qf, art, runner = _build(tmp_path, path, feeds, "tflite-cpu")
    assert {e["op_type"] for e in qf.report["float_nodes"]} >= {"Rsqrt", "Mul"}
    feed = {k: v.copy() for k, v in feeds[0].items()}
    feed["x"][0, :8] = 0.0
    feed["y"][0, :8] = 0.0
    got = runner.run(art, feed)["out"]
    want = np.hypot(feed["x"], feed["y"])
    assert np.all(np.isfinite(got)) and np.all(got[0, :8] == 0.0)
    np.testing.assert_allclose(got, want, atol=2 * want.max() / 255)


def test_lstm_stays_unrolled_with_a_float_cell(tmp_path):
    seq, batch, inp, hid = 6, 1, 3, 4
    init = {"W": (RNG.normal(size=(1, 4 * hid, inp)) * 0.5).astype(np.float32),
            "R": (RNG.normal(size=(1, 4 * hid, hid)) * 0.5).astype(np.float32),
            "B": (RNG.normal(size=(1, 8 * hid)) * 0.2).astype(np.float32)}
    inputs = {"X": (seq, batch, inp), "h0": (1, batch, hid), "c0": (1, batch, hid)}
    model = make_model([helper.make_node("LSTM", ["X", "W", "R", "B", "", "h0", "c0"], ["Y", "Yh", "Yc"],
                                         hidden_size=hid)],
                       inputs=inputs, outputs={"Y": (seq, 1, batch, hid), "Yh": (1, batch, hid),
                                               "Yc": (1, batch, hid)}, initializers=init, opset=14)
    path = save(model, tmp_path / "lstm.onnx")
    feeds = [{k: RNG.normal(size=v).astype(np.float32) for k, v in inputs.items()} for _ in range(16)]
    _, art16, _ = _build(tmp_path, path, feeds, "tflite")
    qf, artf, runner = _build(tmp_path, path, feeds, "tflite-cpu")
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in {op for op, _ in _tflite_ops(art16)}
    opsf = _tflite_ops(artf)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in {op for op, _ in opsf}
    assert all(ins[0] == np.int8 for op, ins in opsf if op == "FULLY_CONNECTED")
    m = edgeq.load(path)
    for feed in feeds[:3]:
        ref, got = m.run(feed), runner.run(artf, feed)
        for name in ("Y", "Yh", "Yc"):
            np.testing.assert_allclose(got[name], ref[name], atol=0.08, err_msg=name)


def test_a_cnn_without_wide_tensors_is_the_same_file(tmp_path):
    path = save(small_cnn(), tmp_path / "cnn.onnx")
    feeds = cnn_feeds(8)
    _, a, _ = _build(tmp_path, path, feeds, "tflite")
    _, b, _ = _build(tmp_path, path, feeds, "tflite-cpu")
    assert a.file("model.tflite").read_bytes() == b.file("model.tflite").read_bytes()
