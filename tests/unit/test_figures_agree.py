"""The same data and the same quantization give the same accuracy figure in edgeq
compare, edgeq sensitivity (its integer-simulator figure) and edgeq profile (the artifact
on LiteRT's reference kernels, bit-exact with the simulator); and every figure says what
data it was measured on, the calibration it came from and what it compares."""

from __future__ import annotations

import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq

pytest.importorskip("ai_edge_litert.interpreter")


def test_compare_sensitivity_and_profile_agree(tmp_path):
    from edgeq.targets import get_target

    onnx = save(small_cnn(), tmp_path / "cnn.onnx")
    calib, evals = cnn_feeds(8), cnn_feeds(6, seed=4)
    spec = get_target("tflite").spec
    kw = dict(progress=False, cache_dir=str(tmp_path / "cache"))
    model = edgeq.load(str(onnx))
    qm = edgeq.quantize(model, calib, spec=spec, **kw)
    compared = edgeq.compare(model, qm, evals)
    sens = edgeq.sensitivity(model, evals, spec=spec, samples=len(evals), **kw)
    arts = edgeq.build(qm, targets=["tflite"], output_dir=tmp_path / "b", progress=False, layer_sqnr_samples=0)
    prof = edgeq.profile(arts["tflite"].path, data=evals, runs=2, warmup=0, delegate="reference",
                         report_formats=("json",), progress=False)
    (out,) = compared.outputs
    figure = compared.outputs[out]["sqnr_db"]
    assert prof.accuracy["sqnr_db"] == pytest.approx(figure, abs=1e-9)
    # sensitivity quantizes again on its own data (evals): same figure as compare on a
    # model quantized from those samples
    qm_e = edgeq.quantize(model, evals, spec=spec, **kw)
    assert sens.simulator_db == pytest.approx(edgeq.compare(model, qm_e, evals).outputs[out]["sqnr_db"], abs=1e-9)

    # every figure names its data, calibration and what it compares
    assert compared.data["samples"] == len(evals) and compared.calibration["samples"] == len(calib)
    assert compared.calibration["fingerprint"] == qm.calibration_fingerprint
    assert "integer simulator" in compared.compares
    assert sens.data["samples"] == len(evals) and sens.data["split"] == "calib" and "fake-quant" in sens.compares
    sec = prof.to_dict()["sections"][0]["extra"]
    assert sec["evaluation_data"]["samples"] == len(evals)
    assert sec["calibration"]["fingerprint"] == qm.calibration_fingerprint
    assert "onnxruntime" in sec["compares"]
