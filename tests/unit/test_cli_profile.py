"""``edgeq profile``: reports whose accuracy matches an independent LiteRT + onnxruntime
computation, gates (exit 3, reports still written), JUnit, --config, baselines, and the
errors for tampered artifacts and moved reference models."""

from __future__ import annotations

import json
import math
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import onnxruntime as ort
import pytest
import yaml

pytest.importorskip("ai_edge_litert.interpreter")

import edgeq  # noqa: E402
from edgeq.cli import main  # noqa: E402
from edgeq.profile.report import load_report  # noqa: E402

from _build_helpers import (INPUT, OUTPUT, litert_run, npy_dir, read_json, samples,  # noqa: E402
                            small_cnn)


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("EDGEQ_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small CNN built once for tflite (int8), plus its evaluation data."""
    root = tmp_path_factory.mktemp("built")
    model = small_cnn(root / "cnn.onnx")
    arts = edgeq.build(model, targets=["tflite"], calibration=npy_dir(root / "calib", 16),
                       output_dir=root / "out", progress=False, cache_dir=str(root / "cache"))
    return {"model": model, "art": arts["tflite"].path, "eval": npy_dir(root / "eval", 8, seed=11)}


@pytest.fixture
def art(built, tmp_path):
    """A fresh copy of the artifact (tests write reports into it)."""
    dst = tmp_path / "tflite"
    shutil.copytree(built["art"], dst)
    return dst


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_report_accuracy_matches_an_independent_computation(capsys, built, art):
    rc, out, err = run(capsys, "profile", art, "--runner", "host", "--data", built["eval"],
                       "--runs", 7, "--warmup", 2)
    assert rc == 0, err
    data = load_report(art / "report.json")  # schema-validated
    sec = data["sections"][0]
    assert sec["latency"]["runs"] == 7 and len(sec["latency"]["samples_ms"]) == 7
    acc = sec["accuracy"]
    assert acc["samples"] == 8 and acc["reference"] == "fp32"
    # independent: onnxruntime on the ONNX file vs LiteRT on the .tflite, same 8 files
    sess = ort.InferenceSession(str(built["model"]), providers=["CPUExecutionProvider"])
    xs = [np.load(f) for f in sorted(built["eval"].glob("*.npy"))]
    ref = np.concatenate([sess.run([OUTPUT], {INPUT: x})[0].ravel() for x in xs]).astype(np.float64)
    got = np.concatenate([litert_run(art / "model.tflite", x).ravel() for x in xs]).astype(np.float64)
    sqnr = 10 * math.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))
    assert acc["sqnr_db"] == pytest.approx(sqnr, abs=1e-6)
    top1 = np.mean([np.argmax(sess.run([OUTPUT], {INPUT: x})[0]) == np.argmax(litert_run(art / "model.tflite", x))
                    for x in xs])
    assert acc["top1_agreement"] == pytest.approx(top1)
    assert acc["max_abs_error"] == pytest.approx(np.max(np.abs(ref - got)), rel=1e-6)
    # the build report's per-layer SQNR is attached, and the reports are all there
    assert {r["name"] for r in acc["per_layer"]} >= {"conv1", "conv2"}
    assert "<html" in (art / "report.html").read_text().lower()
    assert "SQNR" in (art / "report.md").read_text()
    assert "report.html" in out and "top-1 agreement" in out


def test_failed_gate_exit_3_report_and_junit_written(capsys, built, art, tmp_path):
    junit = tmp_path / "junit" / "gates.xml"
    rc, out, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 3, "--warmup", 0,
                       "--gate", "top1_agreement>=0.5", "--gate", "sqnr_db>=500",
                       "--gate", "peak_memory_mb>=0", "--junit", junit)
    assert rc == 3
    assert "sqnr_db>=500" in err and "1 of 3 gate checks failed" in err
    data = load_report(art / "report.json")
    assert [(g["expr"], g["passed"]) for g in data["gates"]] == [
        ("top1_agreement>=0.5", True), ("sqnr_db>=500", False), ("peak_memory_mb>=0", True)]
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["top1_agreement>=0.5", "sqnr_db>=500", "peak_memory_mb>=0"]
    assert [c.find("failure") is not None for c in cases] == [False, True, False]
    assert "FAIL" in out


def test_gates_pass_exit_0(capsys, built, art, tmp_path):
    rc, _, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 2, "--warmup", 0,
                     "--gate", "cosine_mean>=0.9", "--gate", "latency_p50_ms<=100000",
                     "--junit", tmp_path / "g.xml")
    assert rc == 0, err
    assert ET.parse(tmp_path / "g.xml").getroot().get("failures") == "0"


def test_bad_gate_is_a_usage_error_before_running(capsys, art):
    rc, _, err = run(capsys, "profile", art, "--gate", "latency<=3")
    assert rc == 2 and "unknown gate metric 'latency'" in err
    assert not (art / "report.json").exists()


def test_config_profile_section(capsys, built, art, tmp_path):
    cfg = {"model": {"path": str(built["model"])},
           "profile": {"runs": 4, "warmup": 1, "gates": ["top1_agreement>=1.01"],
                       "data": {"kind": "npy", "path": str(built["eval"]), "input_name": INPUT},
                       "junit": "out/gates.xml", "report_formats": ["json", "md"]}}
    path = tmp_path / "edgeq.yaml"
    path.write_text(yaml.safe_dump(cfg))
    rc, _, err = run(capsys, "profile", art, "--config", path)
    assert rc == 3 and "top1_agreement>=1.01" in err
    data = read_json(art / "report.json")
    assert data["sections"][0]["latency"]["runs"] == 4
    assert data["sections"][0]["accuracy"]["samples"] == 8
    assert (tmp_path / "out" / "gates.xml").is_file()
    assert not (art / "report.html").exists()  # report_formats honoured
    # a flag overrides the config field
    rc, _, err = run(capsys, "profile", art, "--config", path, "--runs", 2, "--gate", "cosine_min>=0")
    assert rc == 0, err
    assert read_json(art / "report.json")["sections"][0]["latency"]["runs"] == 2


def test_config_target_entry_applies_to_the_artifact_it_built(capsys, built, art, tmp_path):
    cfg = {"model": {"path": str(built["model"])},
           "targets": [{"name": "tflite", "gates": ["cosine_mean>=0.5"], "num_samples": 5, "runs": 3}],
           "profile": {"runs": 4, "warmup": 0, "gates": ["top1_agreement>=1.01"],
                       "data": {"kind": "npy", "path": str(built["eval"]), "input_name": INPUT}}}
    path = tmp_path / "edgeq.yaml"
    path.write_text(yaml.safe_dump(cfg))
    rc, _, err = run(capsys, "profile", art, "--config", path)  # the artifact's profile: tflite
    assert rc == 0, err
    data = read_json(art / "report.json")
    assert [g["expr"] for g in data["gates"]] == ["cosine_mean>=0.5"]
    assert data["sections"][0]["accuracy"]["samples"] == 5 and data["sections"][0]["latency"]["runs"] == 3
    cfg["targets"][0]["gates"] = ["cosine_mean>=1.5"]
    path.write_text(yaml.safe_dump(cfg))
    rc, _, err = run(capsys, "profile", art, "--config", path)
    assert rc == 3 and "cosine_mean>=1.5" in err and "top1_agreement" not in err


def test_without_data_latency_only_and_accuracy_gates_fail(capsys, art, tmp_path):
    rc, _, err = run(capsys, "profile", art, "--runs", 2, "--warmup", 0, "--report-dir", tmp_path / "r",
                     "--gate", "top1_agreement>=0.5")
    assert rc == 3 and "was not measured" in err
    data = read_json(tmp_path / "r" / "report.json")
    sec = data["sections"][0]
    assert sec["latency"]["runs"] == 2 and sec["accuracy"].get("sqnr_db") is None
    assert sec["extra"]["evaluation_data"]["kind"] == "random"
    assert not (art / "report.json").exists()


def test_fp32_baseline_comparison(capsys, built, art, tmp_path):
    rc, out, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 3, "--warmup", 1,
                       "--baseline", "fp32", "--gate", "size_ratio<1")
    assert rc == 0, err
    comp = read_json(art / "report.json")["comparison"]
    assert comp["baseline"]["label"] == "fp32" and comp["candidate"]["label"] == "int8"
    assert comp["speedup"] > 0 and comp["baseline"]["latency_p50_ms"] > 0
    # the baseline is the FP32 .tflite of the same model: build one and compare sizes
    fp32 = edgeq.build(built["model"], targets=[("tflite", {"precision": "fp32"})],
                       output_dir=tmp_path / "fp32", progress=False)["tflite"]
    fp32_bytes = (fp32.path / "model.tflite").stat().st_size
    assert comp["baseline"]["size_mb"] == pytest.approx(fp32_bytes / 1e6)
    assert comp["size_ratio"] == pytest.approx((art / "model.tflite").stat().st_size / fp32_bytes)
    assert "fp32 vs int8" in out


def test_tampered_artifact_is_refused(capsys, art):
    (art / "model.tflite").write_bytes((art / "model.tflite").read_bytes()[:-8] + b"\0" * 8)
    rc, _, err = run(capsys, "profile", art)
    assert rc == 1 and "model.tflite" in err and "sha256" in err


def test_reference_model_moved_or_changed(capsys, built, art, tmp_path):
    manifest = read_json(art / "manifest.json")
    moved = tmp_path / "moved.onnx"
    shutil.copy(built["model"], moved)
    manifest["source"]["model"] = str(tmp_path / "gone.onnx")
    (art / "manifest.json").write_text(json.dumps(manifest))
    rc, _, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 1)
    assert rc == 2 and "gone.onnx" in err and "--reference" in err
    rc, _, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 1, "--reference", moved)
    assert rc == 0, err
    other = small_cnn(tmp_path / "other.onnx", seed=5)
    manifest["source"]["model"] = str(other)
    (art / "manifest.json").write_text(json.dumps(manifest))
    rc, _, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 1)
    assert rc == 2 and "other.onnx" in err and "changed" in err


def test_python_api_returns_report_and_raises_gate_failure(built, art):
    rep = edgeq.profile(art, data=built["eval"], runs=2, warmup=0, progress=False)
    assert rep.accuracy["samples"] == 8 and rep.latency.runs == 2
    feeds = [{INPUT: x} for x in samples(3, seed=2)]
    with pytest.raises(edgeq.errors.GateFailure) as err:
        edgeq.profile(art, data=feeds, runs=2, warmup=0, gates=["sqnr_db>=999"], progress=False)
    assert err.value.exit_code == 3 and "sqnr_db>=999" in str(err.value)
    assert err.value.report.accuracy["samples"] == 3
    assert read_json(err.value.paths["json"])["gates"][0]["passed"] is False


def test_unknown_runner(capsys, art):
    rc, _, err = run(capsys, "profile", art, "--runner", "quantum")
    assert rc == 1 and "no runner 'quantum'" in err and "host" in err


def test_adb_runner_same_report_as_host(capsys, built, art, tmp_path, monkeypatch):
    """`--runner adb` through a fake adb server (real wire protocol) whose device runs a
    benchmark_model stand-in in LiteRT: the report has the host report's format and the
    same accuracy, since both run the same .tflite on the same inputs."""
    pytest.importorskip("adbutils")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds fake_adb
    from fake_adb import FakeAdbServer, write_benchmark_model

    binary = write_benchmark_model(tmp_path / "tools" / "benchmark_model")
    host_dir, adb_dir = tmp_path / "host", tmp_path / "adb"
    rc, _, err = run(capsys, "profile", art, "--data", built["eval"], "--runs", 3, "-o", host_dir)
    assert rc == 0, err
    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    with FakeAdbServer(tmp_path / "devices") as server:
        server.add_device("FAKE01")
        monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
        rc, out, err = run(capsys, "profile", art, "--runner", "adb", "--device", "FAKE01",
                           "--runner-bin", binary, "--data", built["eval"], "--runs", 3,
                           "--warmup", 1, "-o", adb_dir, "--gate", "top1_agreement>=0.5")
    assert rc == 0, err
    host, adb = load_report(host_dir / "report.json"), load_report(adb_dir / "report.json")
    assert adb["runner"] == "adb" and host["runner"] == "host"
    assert set(adb) == set(host) and set(adb["sections"][0]) == set(host["sections"][0])
    assert adb["sections"][0]["device"]["serial"] == "FAKE01"
    ha, aa = host["sections"][0]["accuracy"], adb["sections"][0]["accuracy"]
    assert aa["samples"] == ha["samples"] == 8
    for key in ("sqnr_db", "top1_agreement", "max_abs_error"):
        assert aa[key] == pytest.approx(ha[key], abs=1e-9)
    assert adb["gates"][0]["passed"] is True
