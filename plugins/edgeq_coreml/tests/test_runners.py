"""The Core ML runners: the host runner (numpy interpretation of the saved program) end
to end, the mac runner's argument handling, its report assembly from recorded outputs,
and its clear error off macOS. The real Core ML run needs macOS and is skipped here."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from edgeq.sdk import Artifact, TargetUnavailableError, UsageError, run_graph

from edgeq_coreml.runners.host import HostRunner
from edgeq_coreml.runners.mac import COMPUTE_UNITS, MacRunner, assemble_report, placement_rows, require_macos


def test_host_runner_profile_has_accuracy(cnn, cnn_artifact):
    art = Artifact.load(cnn_artifact.path)
    refs = [run_graph(cnn.float_graph, f) for f in cnn.feeds]
    rep = HostRunner().profile(art, cnn.feeds, references=refs)
    assert rep.target == "ane" and rep.runner == "host" and rep.latency is None
    assert len(rep.outputs) == len(cnn.feeds)
    out = cnn.float_graph.outputs[0]
    assert rep.accuracy and rep.outputs[0][out].shape == refs[0][out].shape
    np.testing.assert_allclose(rep.outputs[0][out].sum(), 1.0, atol=0.05)  # softmax


def test_host_runner_rejects_bad_feeds(cnn, cnn_artifact):
    art = Artifact.load(cnn_artifact.path)
    with pytest.raises(UsageError, match="missing input 'image'"):
        HostRunner().run(art, {"other": np.zeros(1)})
    with pytest.raises(UsageError, match="shape"):
        HostRunner().run(art, {"image": np.zeros((1, 3, 8, 8), np.float32)})


def test_runner_refuses_other_targets(cnn_artifact, tmp_path):
    import json
    import shutil

    shutil.copytree(cnn_artifact.path, tmp_path / "x")
    mf = tmp_path / "x" / "manifest.json"
    m = json.loads(mf.read_text())
    m["target"] = "tflite"
    mf.write_text(json.dumps(m))
    with pytest.raises(UsageError, match="tflite"):
        HostRunner().run(Artifact.load(tmp_path / "x"), {})


@pytest.mark.parametrize("units", COMPUTE_UNITS)
def test_mac_runner_accepts_compute_units(units, cnn_artifact):
    assert MacRunner(compute_units=units.lower()).units_for(cnn_artifact) == units
    assert MacRunner(delegate=units).units_for(cnn_artifact) == units  # edgeq profile --delegate


def test_mac_runner_compute_units_default_to_the_profile(cnn_artifact):
    assert MacRunner().units_for(cnn_artifact) == cnn_artifact.manifest["coreml"]["compute_units"]


def test_mac_runner_rejects_unknown_compute_units():
    with pytest.raises(UsageError, match="CPU_AND_NE"):
        MacRunner(compute_units="NPU")
    with pytest.raises(UsageError, match="--delegate"):
        MacRunner(delegate="xnnpack")


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the error off macOS")
def test_mac_runner_off_macos_says_so(cnn, cnn_artifact):
    with pytest.raises(TargetUnavailableError, match="only on macOS"):
        MacRunner().run(Artifact.load(cnn_artifact.path), cnn.feeds[0])
    with pytest.raises(TargetUnavailableError, match="--runner host"):
        require_macos("Linux")
    require_macos("Darwin")  # no error where Core ML exists


def test_mac_report_from_recorded_run(cnn, cnn_artifact):
    """What a Mac run records (latencies, outputs, MLComputePlan rows) becomes the same
    report as every runner's, with accuracy against the FP32 references."""
    art = Artifact.load(cnn_artifact.path)
    host = HostRunner()
    outputs = [host.run(art, f) for f in cnn.feeds]  # recorded outputs stand in for predict()
    refs = [run_graph(cnn.float_graph, f) for f in cnn.feeds]
    plan = placement_rows([("conv_0", "ios17.conv", "MLNeuralEngineComputeDevice",
                            ["MLNeuralEngineComputeDevice", "MLCPUComputeDevice"], 0.4),
                           ("softmax_0", "ios17.softmax", "MLCPUComputeDevice", ["MLCPUComputeDevice"], None)])
    rep = assemble_report(art, compute_units="CPU_AND_NE", samples_ms=[2.0, 1.0, 3.0], load_ms=40.0,
                          outputs=outputs, placement=plan, references=refs, warmup=2)
    assert rep.runner == "mac" and rep.latency.p50_ms == 2.0 and rep.latency.load_ms == 40.0
    assert rep.extra["placement_counts"] == {"MLNeuralEngineComputeDevice": 1, "MLCPUComputeDevice": 1}
    assert rep.op_profile[0]["supported"] == ["MLCPUComputeDevice", "MLNeuralEngineComputeDevice"]
    assert rep.accuracy


@pytest.mark.skipif(platform.system() != "Darwin", reason="Core ML predict needs macOS "
                    "(coremltools cannot run models on Linux)")
def test_mac_runner_real_run(cnn, cnn_artifact):  # pragma: no cover - macOS only
    rep = MacRunner("CPU_ONLY").profile(Artifact.load(cnn_artifact.path), cnn.feeds, runs=3, warmup=1)
    host = HostRunner().run(Artifact.load(cnn_artifact.path), cnn.feeds[0])
    out = cnn.float_graph.outputs[0]
    np.testing.assert_allclose(rep.outputs[0][out], host[out], atol=0.02)
