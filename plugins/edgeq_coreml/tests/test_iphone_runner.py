"""The iphone runner: device selection and devicectl's JSON, the request it writes and
the result it reads, and the whole exchange end to end against a stand-in for
``xcrun devicectl`` (fake_xcrun.py: the same command lines and JSON documents, a fake
iPhone whose app runs the package with edgeq's program interpreter). The run on a real
iPhone needs macOS, Xcode 16 and the EdgeqProfiler app, and is skipped here."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeq.sdk import Artifact, DeviceError, TargetUnavailableError, UsageError, run_graph

from edgeq_coreml.runners.devicectl import AppleDevice, DeviceCtl, select_device
from edgeq_coreml.runners.host import HostRunner
from edgeq_coreml.runners.iphone import IPhoneRunner, read_result, write_request

FAKE = Path(__file__).with_name("fake_xcrun.py")
IPHONE = {"identifier": "A1B2C3D4-0000-0000-0000-000000000001",
          "hardwareProperties": {"udid": "00008130-0001", "platform": "iOS", "marketingName": "iPhone 15 Pro",
                                 "productType": "iPhone16,1"},
          "deviceProperties": {"name": "Test iPhone", "osVersionNumber": "18.1"},
          "connectionProperties": {"transportType": "wired", "tunnelState": "connected"}}
WATCH = {"identifier": "W-1", "hardwareProperties": {"udid": "w1", "platform": "watchOS"},
         "deviceProperties": {"name": "Watch"}, "connectionProperties": {"transportType": "localNetwork"}}


def _device(**kw) -> AppleDevice:
    entry = json.loads(json.dumps(IPHONE))
    entry["deviceProperties"]["name"] = kw.get("name", "Test iPhone")
    entry["hardwareProperties"]["udid"] = kw.get("udid", "00008130-0001")
    entry["connectionProperties"]["transportType"] = kw.get("transport", "wired")
    return AppleDevice.from_json(entry)


def test_device_json_and_selection():
    d = AppleDevice.from_json(IPHONE)
    assert (d.name, d.udid, d.model, d.os_version, d.transport) == \
        ("Test iPhone", "00008130-0001", "iPhone 15 Pro", "18.1", "wired")
    watch = AppleDevice.from_json(WATCH)
    assert select_device([watch, d], None) == d  # the only iOS device
    assert select_device([d, _device(name="Other", udid="x", transport="localNetwork")], None) == d  # wired first
    assert select_device([d, _device(name="Other", udid="x")], "Other").udid == "x"
    with pytest.raises(DeviceError, match="choose one with --device"):
        select_device([d, _device(name="Other", udid="x")], None)
    with pytest.raises(DeviceError, match="pair it in Xcode"):
        select_device([watch], None)
    with pytest.raises(DeviceError, match="no iOS device 'nope'.*Test iPhone"):
        select_device([d], "nope")


def test_runner_arguments():
    with pytest.raises(UsageError, match="CPU_AND_NE"):
        IPhoneRunner(compute_units="NPU")
    with pytest.raises(UsageError, match="one device at a time"):
        IPhoneRunner(device="all")
    assert IPhoneRunner(delegate="cpu_only").compute_units == "CPU_ONLY"


@pytest.mark.skipif(platform.system() == "Darwin", reason="checks the error off macOS")
def test_off_macos_says_so(cnn, cnn_artifact):
    with pytest.raises(TargetUnavailableError, match="'iphone' runner.*only on macOS"):
        IPhoneRunner().run(Artifact.load(cnn_artifact.path), cnn.feeds[0])


def test_missing_xcrun_names_what_to_install(tmp_path):
    with pytest.raises(TargetUnavailableError, match="xcode-select --install"):
        DeviceCtl(tmp_path / "no-xcrun").devices()


def test_request_files_and_result_reading(cnn, cnn_artifact, tmp_path):
    art = Artifact.load(cnn_artifact.path)
    files = write_request(art, cnn.feeds[:2], tmp_path / "req", compute_units="ALL", runs=4, warmup=1)
    request = json.loads(files["edgeq-req-request.json"].read_text())
    assert request["compute_units"] == "ALL" and (request["runs"], request["warmup"], request["samples"]) == (4, 1, 2)
    assert request["inputs"] == [{"name": "image", "shape": [1, 3, 32, 32], "dtype": "float32"}]
    # every file of the package travels, with the path the app rebuilds it at
    pkg = sorted(f.relative_to(art.path).as_posix() for f in (art.path / "model.mlpackage").rglob("*") if f.is_file())
    assert sorted(v for v in request["files"].values() if v.startswith("model.mlpackage/")) == pkg
    raw = np.frombuffer(files["edgeq-req-input-1-0.bin"].read_bytes(), "<f4").reshape(1, 3, 32, 32)
    np.testing.assert_array_equal(raw, cnn.feeds[1]["image"])
    # the app's answer: outputs as little-endian float32 files
    out_name = art.manifest["outputs"][0].get("coreml_name", art.manifest["outputs"][0]["name"])
    host = HostRunner().run(art, cnn.feeds[0])
    value = host[art.manifest["outputs"][0]["name"]].astype("<f4")
    (tmp_path / "edgeq-res-output-0-0.bin").write_bytes(value.tobytes())
    result = {"format": 1, "samples": 1, "samples_ms": [1.0], "outputs": [{"name": out_name, "shape": list(value.shape)}]}
    _, outs = read_result(result, tmp_path, art.manifest)
    np.testing.assert_array_equal(outs[0][art.manifest["outputs"][0]["name"]], value)
    with pytest.raises(DeviceError, match="on the device: out of memory"):
        read_result({"error": "out of memory"}, tmp_path, art.manifest)
    with pytest.raises(DeviceError, match="rebuild the app"):
        read_result({"format": 2}, tmp_path, art.manifest)
    with pytest.raises(DeviceError, match="was not copied back"):
        read_result({**result, "samples": 2}, tmp_path, art.manifest)


@pytest.fixture
def fake_xcrun(tmp_path, monkeypatch):
    xcrun = tmp_path / "bin" / "xcrun"
    xcrun.parent.mkdir()
    xcrun.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.argv[0] = {str(FAKE)!r}\n"
                     f"runpy.run_path({str(FAKE)!r}, run_name='__main__')\n")
    xcrun.chmod(0o755)
    monkeypatch.setenv("FAKE_DEVICECTL_ROOT", str(tmp_path / "device"))
    monkeypatch.setenv("FAKE_DEVICECTL_DEVICES", json.dumps([WATCH, IPHONE]))
    monkeypatch.setenv("FAKE_DEVICECTL_APPS", "dev.edgeq.profiler")
    monkeypatch.setenv("FAKE_DEVICECTL_LOG", str(tmp_path / "commands.log"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    monkeypatch.setattr(platform, "system", lambda: "Darwin")  # devicectl exists only on macOS
    return xcrun


def test_profile_end_to_end_through_devicectl(cnn, cnn_artifact, fake_xcrun, tmp_path):
    art = Artifact.load(cnn_artifact.path)
    refs = [run_graph(cnn.float_graph, f) for f in cnn.feeds]
    rep = IPhoneRunner(runner_bin=fake_xcrun, delegate="CPU_AND_NE").profile(art, cnn.feeds, runs=3, warmup=1,
                                                                             references=refs)
    assert rep.runner == "iphone" and rep.device["kind"] == "iphone"
    assert (rep.device["name"], rep.device["model"], rep.device["os_version"]) == ("Test iPhone", "iPhone16,1", "18.1.0")
    assert len(rep.latency.samples_ms) == 3 and rep.latency.load_ms > 0
    host = HostRunner()
    for feed, got in zip(cnn.feeds, rep.outputs):  # what the app computed, copied back
        for name, value in host.run(art, feed).items():
            np.testing.assert_array_equal(got[name], value)
    assert rep.accuracy
    commands = [json.loads(line) for line in (tmp_path / "commands.log").read_text().splitlines()]
    launch = next(c for c in commands if c[1:4] == ["device", "process", "launch"])
    # options first, then the bundle id, then the app's own arguments
    assert launch[launch.index("--json-output") + 2:] == \
        ["dev.edgeq.profiler", "--edgeq-request", "Documents/edgeq-req-request.json"]
    assert "--console" in launch and launch[launch.index("--device") + 1] == IPHONE["identifier"]
    copies = [c for c in commands if c[1:4] == ["device", "copy", "to"]]
    assert all(c[c.index("--domain-type") + 1] == "appDataContainer" for c in copies)
    package_files = [f for f in (art.path / "model.mlpackage").rglob("*") if f.is_file()]
    assert len(copies) == len(package_files) + len(cnn.feeds) + 1  # + the request
    copied_back = [c for c in commands if c[1:4] == ["device", "copy", "from"]]
    assert len(copied_back) == 1 + len(cnn.feeds) * len(art.manifest["outputs"])


def test_app_not_installed_is_a_clear_error(cnn, cnn_artifact, fake_xcrun, monkeypatch):
    monkeypatch.setenv("FAKE_DEVICECTL_APPS", "")
    with pytest.raises(DeviceError, match="devicectl device copy to.*not installed"):
        IPhoneRunner(runner_bin=fake_xcrun).run(Artifact.load(cnn_artifact.path), cnn.feeds[0])


def test_an_error_inside_the_app_reaches_the_user(cnn, cnn_artifact, fake_xcrun, tmp_path, monkeypatch):
    import edgeq_coreml.target as target

    art = Artifact.load(cnn_artifact.path)
    broken = tmp_path / "broken"
    shutil.copytree(art.path, broken)
    (broken / "model.mlpackage" / "Data" / "com.apple.CoreML" / "model.mlmodel").write_bytes(b"not a model")
    # the artifact's own check would refuse it before anything is copied: go around it
    monkeypatch.setattr(target.CoreMLTarget, "read_artifact", lambda self, a: {})
    with pytest.raises(DeviceError, match="EdgeqProfiler on the device"):
        IPhoneRunner(runner_bin=fake_xcrun).run(Artifact(broken, art.manifest), cnn.feeds[0])


@pytest.mark.skipif(platform.system() != "Darwin" or not os.environ.get("EDGEQ_TEST_IPHONE"),
                    reason="needs macOS with Xcode 16+, an attached iPhone with the EdgeqProfiler app "
                    "(plugins/edgeq_coreml/runners/ios_profiler/README.md) and EDGEQ_TEST_IPHONE=1")
def test_real_iphone(cnn, cnn_artifact):  # pragma: no cover - device only
    rep = IPhoneRunner().profile(Artifact.load(cnn_artifact.path), cnn.feeds, runs=5, warmup=1)
    assert rep.latency.p50_ms > 0
