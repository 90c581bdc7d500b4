"""Real zoo models end to end: ``edgeq build --profile`` on the zoo's calibration split,
profiled in LiteRT on the host against the FP32 ONNX model on the evaluation split.

Bars:

* ppocr-cls (text-line orientation, two classes): the int8 model must agree with FP32
  on at least 97 % of the evaluation lines, keep 20 dB output SQNR, and be as right
  about the ground-truth orientation as the FP32 model within two lines in a hundred.
* mobilenet-v2 (ImageNet): DESIGN.md measures today's tools (onnxruntime
  ``quantize_static``, the TF Lite converter) at 0.67-0.71 top-1 agreement and 11-14 dB
  logit SQNR on natural-image crops; edgeq's build must do clearly better: top-1
  agreement >= 0.80 and SQNR >= 15 dB on the zoo's evaluation crops. The int8 file is
  at most 0.3x the FP32 ONNX and, with one thread, faster than the FP32 ``.tflite``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter")

import edgeq  # noqa: E402
from edgeq.cli import main  # noqa: E402
from edgeq.profile.report import load_report  # noqa: E402

pytestmark = pytest.mark.slow

EVAL = 100
#: the MobileNetV2 bar (issue: top-1 agreement >= 0.80) is defined on the whole eval split
MOBILENET_EVAL = 324


def _build_profile(tmp_path, model: str, gates: list[str], calib_samples: int = 128,
                   eval_samples: int = EVAL):
    out = tmp_path / "out"
    argv = ["build", f"zoo:{model}", "--target", "tflite", "--calib", f"zoo:{model}",
            "--calib-samples", str(calib_samples), "-o", str(out), "--profile",
            "--data", f"zoo:{model}:eval", "--samples", str(eval_samples), "--runs", "20",
            "--baseline", "fp32", "--junit", str(tmp_path / "gates.xml")]
    for g in gates:
        argv += ["--gate", g]
    rc = main(argv)
    art = out / "tflite"
    report = load_report(art / "report.json")
    return rc, art, report


def test_ppocr_cls(tmp_path):
    gates = ["top1_agreement>=0.97", "sqnr_db>=20", "size_ratio<=0.5"]
    rc, art, report = _build_profile(tmp_path, "ppocr-cls", gates)
    acc = report["sections"][0]["accuracy"]
    assert rc == 0, report["gates"]
    assert acc["samples"] == EVAL
    assert acc["top1_agreement"] >= 0.97 and acc["sqnr_db"] >= 20
    assert ET.parse(tmp_path / "gates.xml").getroot().get("failures") == "0"
    manifest = json.loads((art / "manifest.json").read_text())
    assert manifest["source"]["zoo"] == "ppocr-cls"
    assert manifest["build"]["calibration"]["samples"] == 128
    # against the ground truth: the int8 model is as right as FP32 (within 2 %)
    rep = edgeq.profile(art, data=f"zoo:ppocr-cls:eval", num_samples=EVAL, runs=2, warmup=0,
                        progress=False, report_dir=tmp_path / "again")
    truth = edgeq.zoo.labels("ppocr-cls", "eval", n=EVAL)
    out_name = manifest["outputs"][0]["name"]
    int8 = np.array([np.argmax(o[out_name]) for o in rep.outputs])
    feeds = edgeq.zoo.feeds("ppocr-cls", "eval", n=EVAL)
    from edgeq.profile.api import fp32_references

    fp32 = np.array([np.argmax(r[out_name]) for r in
                     fp32_references(edgeq.zoo.get("ppocr-cls"), feeds)])
    assert np.mean(int8 == truth) >= np.mean(fp32 == truth) - 0.02
    assert np.mean(fp32 == truth) > 0.9  # the data set is one the model can read


def test_mobilenet_v2(tmp_path):
    gates = ["top1_agreement>=0.80", "sqnr_db>=15", "size_ratio<=0.3", "speedup>=1"]
    rc, art, report = _build_profile(tmp_path, "mobilenet-v2", gates, eval_samples=MOBILENET_EVAL)
    acc = report["sections"][0]["accuracy"]
    summary = {g["expr"]: g["value"] for g in report["gates"]}
    assert acc["samples"] == MOBILENET_EVAL
    assert rc == 0, f"gates missed: {summary}"
    size = (art / "model.tflite").stat().st_size
    onnx_size = (edgeq.zoo.get("mobilenet-v2")).stat().st_size
    assert size <= 0.3 * onnx_size
