"""edgeq.build from a QuantizedModel or a saved .edgeq: emitted as it is where it fits,
byte-identical to a build from the ONNX model with the same options; re-quantized only
with calibration data and then said so; wrong model types are UsageErrors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq
from edgeq.errors import UsageError

pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    return save(small_cnn(), tmp_path_factory.mktemp("m") / "cnn.onnx")


def _tflite_bytes(arts, name="tflite"):
    return (arts[name].path / "model.tflite").read_bytes()


def test_quantized_model_builds_byte_identical_to_onnx_build(onnx_path, tmp_path):
    from edgeq.targets import get_target

    calib = cnn_feeds(8)
    kw = dict(progress=False, cache_dir=str(tmp_path / "cache"), layer_sqnr_samples=0)
    from_onnx = edgeq.build(str(onnx_path), targets=["tflite"], calibration=calib,
                            output_dir=tmp_path / "a", **kw)
    qm = edgeq.quantize(edgeq.load(str(onnx_path)), calib, spec=get_target("tflite").spec,
                        progress=False, cache_dir=str(tmp_path / "cache"))
    from_qm = edgeq.build(qm, targets=["tflite"], output_dir=tmp_path / "b", progress=False,
                          layer_sqnr_samples=0)
    assert _tflite_bytes(from_qm) == _tflite_bytes(from_onnx)
    report = json.loads((from_qm["tflite"].path / "build_report.json").read_text())
    assert report["quantization"]["origin"] == "given"
    # the FP32 source recorded by quantize() is the ONNX file: profile can find it
    assert from_qm["tflite"].manifest["source"]["sha256"] == from_onnx["tflite"].manifest["source"]["sha256"]

    saved = qm.save(tmp_path / "cnn.edgeq")
    from_file = edgeq.build(str(saved), targets=["tflite"], output_dir=tmp_path / "c", progress=False,
                            layer_sqnr_samples=0)
    assert _tflite_bytes(from_file) == _tflite_bytes(from_onnx)


def _int8_only_profile(tmp_path):
    """A TFLite profile without int16: a model with int16 nodes does not fit it."""
    path = tmp_path / "tflite-int8only.yaml"
    path.write_text("name: tflite-int8only\ntarget: tflite\noptions:\n  int16: false\n")
    return path


def test_target_it_does_not_fit_needs_calibration_and_says_why(onnx_path, tmp_path):
    from edgeq.targets import get_target

    calib = cnn_feeds(8)
    qm = edgeq.quantize(edgeq.load(str(onnx_path)), calib, spec=get_target("tflite").spec, int16=["dw"],
                        progress=False, cache_dir=str(tmp_path / "cache"))
    assert qm.report["int16_nodes"]
    profile = _int8_only_profile(tmp_path)
    with pytest.raises(UsageError, match=r"does not fit target\(s\) tflite-int8only.*int16 activations on Conv"):
        edgeq.build(qm, targets=[str(profile)], output_dir=tmp_path / "x", progress=False)
    assert not (tmp_path / "x" / "tflite-int8only").exists()

    arts = edgeq.build(qm, targets=["tflite", str(profile)], calibration=calib, output_dir=tmp_path / "y",
                       progress=False, cache_dir=str(tmp_path / "cache"), layer_sqnr_samples=0)
    given = json.loads((arts["tflite"].path / "build_report.json").read_text())["quantization"]
    again = json.loads((arts["tflite-int8only"].path / "build_report.json").read_text())["quantization"]
    assert given["origin"] == "given" and given["int16_nodes"]
    assert again["origin"] == "requantized" and not again["int16_nodes"]
    assert "int16 activations" in again["requantized_because"]["tflite-int8only"][0]
    # re-quantized with the quantized model's own options and the cached statistics
    assert again["options"]["int16"] == ["dw"] and again["timings"]["calibration_cached"]


@pytest.mark.parametrize("bad", [42, object(), np.zeros(3)])
def test_wrong_model_type_is_a_usage_error(bad, tmp_path):
    with pytest.raises(UsageError, match=r"build\(model=...\): got .*QuantizedModel from edgeq.quantize"):
        edgeq.build(bad, targets=["tflite"], calibration=cnn_feeds(2), output_dir=tmp_path / "o",
                    progress=False)


def test_a_fused_lstm_fits_every_target_that_fuses_and_no_profile_that_unrolls(tmp_path):
    """The fused LSTM's int16 cell state is not an int16 request: tflite and ane take the
    quantized model as it is; a profile with unroll_lstm (or wide: float) does not."""
    from onnx import helper

    from _quant_models import make_model
    from edgeq.prebuilt import unmet_constraints
    from edgeq.targets import get_target

    rng = np.random.default_rng(0)
    seq, hid, inp = 5, 4, 3
    init = {"W": (rng.normal(size=(1, 4 * hid, inp)) * 0.5).astype(np.float32),
            "R": (rng.normal(size=(1, 4 * hid, hid)) * 0.5).astype(np.float32)}
    inputs = {"X": (seq, 1, inp), "h0": (1, 1, hid), "c0": (1, 1, hid)}
    model = make_model([helper.make_node("LSTM", ["X", "W", "R", "", "", "h0", "c0"], ["Y", "Yh", "Yc"],
                                         hidden_size=hid)],
                       inputs=inputs, outputs={"Y": (seq, 1, 1, hid), "Yh": (1, 1, hid), "Yc": (1, 1, hid)},
                       initializers=init, opset=14)
    feeds = [{k: rng.normal(size=v).astype(np.float32) for k, v in inputs.items()} for _ in range(8)]
    qm = edgeq.quantize(edgeq.load(save(model, tmp_path / "lstm.onnx")), feeds, spec=get_target("tflite").spec,
                        progress=False, cache_dir=str(tmp_path / "cache"))
    assert qm.graph.op_histogram().get("IntegerLSTM") == 1
    assert unmet_constraints(qm, get_target("tflite")) == []
    assert unmet_constraints(qm, get_target("ane")) == []
    assert any("runs unrolled" in r for r in unmet_constraints(qm, get_target("tflite", {"unroll_lstm": True})))
    assert any("wide: float" in r for r in unmet_constraints(qm, get_target("tflite-cpu")))
