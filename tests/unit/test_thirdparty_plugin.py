"""A third-party plugin written against edgeq.sdk alone (tests/plugins/edgeq_testplugin,
installed through a real entry point) builds and profiles a model end to end: its
artifact, read back by its own runner, computes what edgeq's quantized model computes,
and the profile report has accuracy against FP32 (onnxruntime) and latency."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from plugin_env import installed  # noqa: E402

import edgeq  # noqa: E402
from edgeq import plugins  # noqa: E402
from _quant_models import make_model, save  # noqa: E402

RNG = np.random.default_rng(3)


@pytest.fixture
def testplugin(tmp_path, monkeypatch):
    monkeypatch.delenv(plugins.AUTOLOAD_ENV, raising=False)
    plugins.reset_plugin_manager()
    with installed(tmp_path / "site", "edgeq-testplugin", {"testplugin": "edgeq_testplugin.plugin"}):
        yield
    plugins.reset_plugin_manager()


def _mlp(path: Path) -> Path:
    init = {"w1": (RNG.standard_normal((16, 32)) * 0.3).astype(np.float32),
            "b1": (RNG.standard_normal(32) * 0.1).astype(np.float32),
            "w2": (RNG.standard_normal((32, 8)) * 0.3).astype(np.float32),
            "b2": (RNG.standard_normal(8) * 0.1).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["o"]),
             helper.make_node("Add", ["o", "b2"], ["y"])]
    return save(make_model(nodes, inputs={"x": (1, 16)}, outputs={"y": (1, 8)}, initializers=init), path)


def _feeds(n, seed):
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal((1, 16)).astype(np.float32)} for _ in range(n)]


def test_thirdparty_plugin_builds_and_profiles(testplugin, tmp_path):
    from edgeq.targets import get_target

    model = _mlp(tmp_path / "mlp.onnx")
    calib, evals = _feeds(32, 1), _feeds(8, 2)
    arts = edgeq.build(str(model), targets=["graphjson"], calibration=calib,
                       output_dir=tmp_path / "build", progress=False, cache_dir=str(tmp_path / "cache"))
    art = arts["graphjson"]
    assert (art.path / "graph.json").is_file() and art.manifest["target"] == "graphjson"

    # the plugin's own file, read back by its own runner, is the quantized model
    qm = edgeq.quantize(edgeq.load(str(model)), calib, spec=get_target("graphjson").spec,
                        progress=False, cache_dir=str(tmp_path / "cache"))
    from edgeq.targets import get_runner

    runner = get_runner("host", "graphjson")
    for feed in evals:
        np.testing.assert_array_equal(runner.run(art, feed)["y"], qm.run(feed)["y"])

    report = edgeq.profile(art.path, runner="host", data=evals, runs=3, warmup=1,
                           report_formats=("json",), progress=False)
    assert report.latency is not None and report.latency.runs == 3
    acc = report.accuracy
    assert acc["samples"] == len(evals) and acc["sqnr_db"] > 25.0
    assert (art.path / "report.json").is_file()


def test_thirdparty_runner_refuses_another_targets_artifact(testplugin, tmp_path):
    """The core checks Runner.targets before the plugin's code runs."""
    from edgeq.errors import UsageError
    from edgeq.contracts import Artifact
    from edgeq.targets import get_runner

    other = Artifact(tmp_path, {"target": "tflite"})
    with pytest.raises(UsageError, match="a 'tflite' artifact; the 'host' runner of this plugin runs graphjson"):
        get_runner("host", "graphjson").run(other, {})
