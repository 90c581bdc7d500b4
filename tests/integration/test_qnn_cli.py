"""The CLI with the QNN targets: ``edgeq build --target qnn-htp-v75``, a config with
several targets (TFLite and two HTP generations) from one calibration, and ``edgeq
profile build/qnn-htp-v75 --runner host`` with accuracy and a gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("onnxruntime_qnn")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from _build_helpers import npy_dir, small_cnn  # noqa: E402

from edgeq.cli import main  # noqa: E402


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("EDGEQ_CACHE", str(tmp_path_factory.mktemp("cache")))


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_build_and_profile_qnn_htp_v75(capsys, tmp_path):
    model, calib, out = small_cnn(tmp_path / "cnn.onnx"), npy_dir(tmp_path / "calib", 12), tmp_path / "out"
    rc, _, err = run(capsys, "build", model, "--target", "qnn-htp-v75", "--calib", calib, "-o", out,
                     "--layer-sqnr", 0)
    assert rc == 0, err
    art = out / "qnn-htp-v75"
    m = json.loads((art / "manifest.json").read_text())
    assert m["target"] == "qnn" and m["profile"] == "qnn-htp-v75" and m["qnn"]["htp_arch"] == 75
    assert (art / m["qnn"]["context"]["binary_file"]).is_file()
    rc, stdout, err = run(capsys, "profile", art, "--runner", "host", "--data", npy_dir(tmp_path / "eval", 4, seed=3),
                          "--runs", 2, "--warmup", 0, "--gate", "sqnr_db>=10")
    assert rc == 0, err + stdout
    rep = json.loads((art / "report.json").read_text())
    sec = rep["sections"][0]
    assert rep["target"] == "qnn" and rep["runner"] == "host" and sec["accuracy"]["samples"] == 4
    assert sec["extra"]["placement"]["unsupported"] == []
    assert rep["gates"] and all(g["passed"] for g in rep["gates"])


def test_one_calibration_many_targets_from_a_config(capsys, tmp_path):
    model, calib = small_cnn(tmp_path / "cnn.onnx"), npy_dir(tmp_path / "calib", 12)
    cfg = tmp_path / "edgeq.yaml"
    cfg.write_text(yaml.safe_dump({"model": {"path": str(model)},
                                   "calibration": {"dataset": {"kind": "npy", "path": str(calib),
                                                               "input_name": "image"}},
                                   "targets": ["tflite", "qnn-htp-v75", "qnn-htp-v79"],
                                   "output": str(tmp_path / "build")}))
    rc, _, err = run(capsys, "build", "--config", cfg, "--layer-sqnr", 0)
    assert rc == 0, err
    manifests = {t: json.loads((tmp_path / "build" / t / "manifest.json").read_text())
                 for t in ("tflite", "qnn-htp-v75", "qnn-htp-v79")}
    fps = {m["calibration_fingerprint"] for m in manifests.values()}
    assert len(fps) == 1 and None not in fps  # one calibration served every target
    assert manifests["qnn-htp-v79"]["qnn"]["htp_arch"] == 79
    assert manifests["qnn-htp-v75"]["qnn"]["context"]["binary_file"]
