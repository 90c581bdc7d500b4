"""The command line and the build API with the Core ML target: ``edgeq build --target
ane`` on an ONNX file and a calibration directory, tflite + ane from one calibration,
``edgeq profile --runner host`` (accuracy on Linux) and ``--runner mac`` (clear error)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeq


def main(argv: list[str]) -> int:
    """The installed command line, in a subprocess (as a build step runs it)."""
    proc = subprocess.run([sys.executable, "-m", "edgeq", *argv], capture_output=True, text=True, timeout=600)
    main.stdout, main.stderr = proc.stdout, proc.stderr
    return proc.returncode


def _model(path):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.4, (8, 3, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(0, 0.1, 8).astype(np.float32), "b1"),
             numpy_helper.from_array(rng.normal(0, 0.5, (10, 8)).astype(np.float32), "fw"),
             numpy_helper.from_array(rng.normal(0, 0.1, 10).astype(np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("GlobalAveragePool", ["r1"], ["gap"], name="gap"),
             helper.make_node("Flatten", ["gap"], ["flat"], name="flat"),
             helper.make_node("Gemm", ["flat", "fw", "fb"], ["logits"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    import onnx

    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    model = _model(d / "cnn.onnx")
    calib = d / "calib"
    calib.mkdir()
    rng = np.random.default_rng(1)
    for i in range(8):
        np.save(calib / f"s{i}.npy", rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32))
    return model, calib


def test_build_target_ane(files, tmp_path):
    model, calib = files
    rc = main(["build", str(model), "--target", "ane", "--calib", str(calib), "-o", str(tmp_path / "b")])
    assert rc == 0, main.stderr
    art = tmp_path / "b" / "ane"
    m = json.loads((art / "manifest.json").read_text())
    assert (art / "model.mlpackage" / "Manifest.json").is_file()
    assert m["target"] == "ane" and m["profile"] == "ane" and m["chip"].startswith("A17 Pro")
    assert "ANE pre-flight" in main.stdout
    rep = json.loads((art / "build_report.json").read_text())
    assert rep["sizes"]["model_bytes"] > 1000  # the package directory's files


def test_tflite_and_ane_share_one_calibration(files, tmp_path):
    model, calib = files
    arts = edgeq.build(str(model), targets=["tflite", "ane", "ane-w8"], calibration=str(calib),
                       output_dir=tmp_path / "b", use_cache=False)
    assert set(arts) == {"tflite", "ane", "ane-w8"}
    reps = {n: json.loads((tmp_path / "b" / n / "build_report.json").read_text()) for n in arts}
    # the second int8 target reads the statistics the first collected
    assert reps["ane"]["quantization"]["timings"]["calibration_cached"] is True
    assert reps["tflite"]["calibration"]["samples"] == reps["ane"]["calibration"]["samples"]
    assert reps["ane-w8"]["quantization"] is None  # weight-only needs no calibration


def test_profile_host_and_mac(files, tmp_path):
    model, calib = files
    assert main(["build", str(model), "--target", "ane", "--calib", str(calib), "-o", str(tmp_path / "b")]) == 0
    art = tmp_path / "b" / "ane"
    rc = main(["profile", str(art), "--runner", "host", "--data", str(calib), "--samples", "4"])
    assert rc == 0, main.stderr
    rep = json.loads((art / "report.json").read_text())
    acc = rep["sections"][0]["accuracy"]
    assert rep["runner"] == "host" and acc["samples"] == 4 and acc["top1_agreement"] == 1.0
    if platform.system() != "Darwin":
        assert main(["profile", str(art), "--runner", "mac", "--data", str(calib), "--samples", "2"]) == 1
        assert "only on macOS" in main.stderr and "Traceback" not in main.stderr
