"""``edgeq build``: flags and --config, several targets from one calibration, --profile
with gates and JUnit, and failures that leave nothing behind."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml

pytest.importorskip("ai_edge_litert.interpreter")

from edgeq.cli import main  # noqa: E402

from _build_helpers import npy_dir, png_dir, profile_yaml, read_json, small_cnn, tree  # noqa: E402


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("EDGEQ_CACHE", str(root))
    return root


@pytest.fixture
def model(tmp_path):
    return small_cnn(tmp_path / "cnn.onnx")


@pytest.fixture
def calib(tmp_path):
    return npy_dir(tmp_path / "calib", 12)


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_build_writes_out_target(capsys, model, calib, tmp_path):
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "build", model, "--target", "tflite", "--calib", calib, "-o", out,
                          "--layer-sqnr", 0)
    assert rc == 0, err
    assert tree(out) == ["tflite", "tflite/build_report.json", "tflite/manifest.json",
                         "tflite/model.tflite"]
    assert "edgeq build" in stdout and str(out / "tflite" / "model.tflite") in stdout
    rep = read_json(out / "tflite" / "build_report.json")
    assert rep["calibration"]["samples"] == 12 and rep["calibration"]["kind"] == "npy"


def test_quantization_and_io_flags_reach_the_artifact(capsys, model, tmp_path):
    pngs = png_dir(tmp_path / "pngs", 6)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "build", model, "--target", "tflite", "--calib", pngs, "-o", out,
                     "--calib-opt", "mean=[0.5,0.5,0.5]", "--calib-opt", "std=[0.5,0.5,0.5]",
                     "--method", "minmax", "--io", "int8", "--int16", "^conv2$", "--layer-sqnr", 0)
    assert rc == 0, err
    m = read_json(out / "tflite" / "manifest.json")
    scale = m["inputs"][0]["quant"]["scale"]
    scale = scale[0] if isinstance(scale, list) else scale
    assert m["inputs"][0]["dtype"] == "int8" and scale > 0
    q = read_json(out / "tflite" / "build_report.json")["quantization"]
    assert q["options"]["method"] == "minmax" and q["options"]["int16"] == ["^conv2$"]
    assert "conv2" in q["int16_nodes"]
    # images were normalised to [-1, 1] by the given mean/std: the input scale says so
    # (int8 over a range of about 2, not the [0, 1] of the defaults)
    assert 1.5 / 255 < scale < 2.5 / 255


def test_two_targets_one_calibration(capsys, model, calib, tmp_path, cache):
    no16 = profile_yaml(tmp_path / "no16.yaml", "no16", int16=False)
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "build", model, "--target", "tflite", "--target", no16, "--calib",
                          calib, "-o", out, "--layer-sqnr", 0)
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["no16", "tflite"]
    first = read_json(out / "tflite" / "build_report.json")["quantization"]["timings"]
    second = read_json(out / "no16" / "build_report.json")["quantization"]["timings"]
    assert first["calibration_cached"] is False and second["calibration_cached"] is True
    assert len(list((cache / "calibration").glob("*.npz"))) == 1
    assert "(cached)" in stdout and "(run)" in stdout


def _config(tmp_path, model, calib, **profile) -> object:
    cfg = {
        "version": 1,
        "model": {"path": model.name},
        "calibration": {"dataset": {"kind": "npy", "path": calib.name, "input_name": "image"},
                        "num_samples": 8, "method": "percentile", "percentile": 99.9},
        "quantization": {"per_target": {"int8io": {"weights": {"clip": "max"}}}},
        "targets": ["tflite", {"name": "int8io.yaml", "options": {"io_dtype": "int8"}}],
        "output": "cfgout",
    }
    if profile:
        cfg["profile"] = profile
    profile_yaml(tmp_path / "int8io.yaml", "int8io")
    path = tmp_path / "edgeq.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_drives_the_build(capsys, model, calib, tmp_path, monkeypatch):
    cfg = _config(tmp_path, model, calib)
    monkeypatch.chdir(tmp_path.parent)  # relative paths resolve against the config file
    rc, _, err = run(capsys, "build", "--config", cfg, "--layer-sqnr", 0)
    assert rc == 0, err
    out = tmp_path / "cfgout"
    assert sorted(p.name for p in out.iterdir()) == ["int8io", "tflite"]
    a = read_json(out / "tflite" / "build_report.json")
    b = read_json(out / "int8io" / "build_report.json")
    assert a["calibration"]["samples"] == 8
    assert a["quantization"]["options"]["method"] == "percentile"
    assert a["quantization"]["options"]["percentile"] == 99.9
    assert a["quantization"]["options"]["weight_clip"] == "mse"
    assert b["quantization"]["options"]["weight_clip"] == "max"  # per_target override
    assert read_json(out / "int8io" / "manifest.json")["inputs"][0]["dtype"] == "int8"


def test_flags_override_the_config(capsys, model, calib, tmp_path):
    cfg = _config(tmp_path, model, calib)
    out = tmp_path / "elsewhere"
    rc, _, err = run(capsys, "build", "--config", cfg, "--target", "tflite", "-o", out,
                     "--method", "minmax", "--layer-sqnr", 0)
    assert rc == 0, err
    assert [p.name for p in out.iterdir()] == ["tflite"] and not (tmp_path / "cfgout").exists()
    rep = read_json(out / "tflite" / "build_report.json")
    assert rep["quantization"]["options"]["method"] == "minmax"


def test_build_profile_gates_exit_3_with_reports(capsys, model, calib, tmp_path):
    out = tmp_path / "out"
    junit = tmp_path / "ci" / "gates.xml"
    rc, stdout, err = run(capsys, "build", model, "--target", "tflite", "--calib", calib, "-o", out,
                          "--layer-sqnr", 0, "--profile", "--data", npy_dir(tmp_path / "eval", 6, seed=5),
                          "--runs", 3, "--warmup", 1, "--gate", "cosine_mean>=0.9",
                          "--gate", "latency_p50_ms<=0.000001", "--junit", junit)
    assert rc == 3, err
    assert "latency_p50_ms<=0.000001" in err and "cosine_mean" not in err.split("failed")[-1]
    for name in ("report.json", "report.md", "report.html"):
        assert (out / "tflite" / name).is_file()
    rep = read_json(out / "tflite" / "report.json")
    assert [g["passed"] for g in rep["gates"]] == [True, False]
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert "gates" in stdout and "FAIL" in stdout


def test_config_profile_gates(capsys, model, calib, tmp_path):
    cfg = _config(tmp_path, model, calib, runs=2, warmup=0,
                  data={"kind": "npy", "path": "calib", "input_name": "image"},
                  gates=["sqnr_db>=1000"], junit="gates.xml")
    rc, _, err = run(capsys, "build", "--config", cfg, "--target", "tflite", "--profile",
                     "--layer-sqnr", 0)
    assert rc == 3 and "sqnr_db>=1000" in err
    assert ET.parse(tmp_path / "gates.xml").getroot().get("failures") == "1"
    assert read_json(tmp_path / "cfgout" / "tflite" / "report.json")["gates"][0]["expr"] == "sqnr_db>=1000"


@pytest.mark.parametrize("argv, message", [
    (("build", "--target", "tflite"), "MODEL"),
    (("build", "{model}"), "no target"),
    (("build", "{model}", "--target", "nosuchtarget", "--calib", "x"), "unknown target"),
    (("build", "{model}", "--target", "tflite", "--input", "image:1xAx3"), "--input"),
    (("build", "{model}", "--target", "tflite", "--calib-opt", "novalue"), "KEY=VALUE"),
    (("build", "{model}", "--target", "tflite", "--profile", "--gate", "speed>3"), "unknown gate metric"),
])
def test_usage_errors_exit_2(capsys, model, argv, message):
    rc, _, err = run(capsys, *[a.format(model=model) for a in argv])
    assert rc == 2 and message in err


def test_unwritable_output_exit_1_nothing_written(capsys, model, calib, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    before = tree(tmp_path)
    rc, _, err = run(capsys, "build", model, "--target", "tflite", "--calib", calib,
                     "-o", blocker / "out")
    assert rc == 1 and "blocker" in err and "Traceback" not in err
    assert tree(tmp_path) == before


def test_missing_calibration_dir(capsys, model, tmp_path):
    rc, _, err = run(capsys, "build", model, "--target", "tflite", "--calib", tmp_path / "nope",
                     "-o", tmp_path / "out")
    assert rc == 1 and "nope" in err and not (tmp_path / "out").exists()


def test_a_targets_own_gates_replace_the_global_ones(capsys, model, calib, tmp_path):
    cfg = _config(tmp_path, model, calib, runs=2, warmup=0,
                  data={"kind": "npy", "path": "calib", "input_name": "image"},
                  gates=["sqnr_db>=1", "size_mb<=1"], junit="gates.xml")
    data = yaml.safe_load(cfg.read_text())
    data["targets"][1].update(gates=["sqnr_db>=1000"], num_samples=3, runs=1)
    cfg.write_text(yaml.safe_dump(data))
    rc, _, err = run(capsys, "build", "--config", cfg, "--profile", "--layer-sqnr", 0)
    assert rc == 3 and "int8io" in err and "sqnr_db>=1000" in err and "tflite:" not in err
    out = tmp_path / "cfgout"
    tfl, own = read_json(out / "tflite" / "report.json"), read_json(out / "int8io" / "report.json")
    assert [g["expr"] for g in tfl["gates"]] == ["sqnr_db>=1", "size_mb<=1"]
    assert all(g["passed"] for g in tfl["gates"]) and tfl["sections"][0]["accuracy"]["samples"] == 12
    assert [(g["expr"], g["passed"]) for g in own["gates"]] == [("sqnr_db>=1000", False)]
    assert own["sections"][0]["accuracy"]["samples"] == 3 and own["sections"][0]["latency"]["runs"] == 1
    assert ET.parse(tmp_path / "gates-int8io.xml").getroot().get("failures") == "1"
    assert ET.parse(tmp_path / "gates-tflite.xml").getroot().get("failures") == "0"
    # --gate on the command line replaces every list, the target's own included
    rc, _, err = run(capsys, "build", "--config", cfg, "--profile", "--layer-sqnr", 0,
                     "--gate", "cosine_mean>=0")
    assert rc == 0, err
    assert [g["expr"] for g in read_json(out / "int8io" / "report.json")["gates"]] == ["cosine_mean>=0"]
