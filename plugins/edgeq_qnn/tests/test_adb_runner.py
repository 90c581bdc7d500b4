"""The QNN adb runner end to end: adbutils -> the fake adb server (real wire protocol) ->
sandboxed "device" -> a fake qnn-net-run that loads the pushed context binary on
onnxruntime-qnn's HTP emulator -> fake qnn-profile-viewer text parsed for latency ->
Result_<i> outputs pulled back -> accuracy. The outputs must equal the host runner's on
the same context binary bit for bit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("adbutils")

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))  # tests/ holds fake_adb
from fake_adb import FakeAdbServer  # noqa: E402

from edgeq.sdk import BuildOptions, DeviceError  # noqa: E402
from edgeq_qnn.runners.adb import ENV_SDK, AdbRunner  # noqa: E402
from edgeq_qnn.runners.profile_output import parse_profile_viewer  # noqa: E402
from edgeq_qnn.tests.fake_sdk import write_fake_sdk  # noqa: E402
from edgeq_qnn.tests.qgraphs import single_op_graph  # noqa: E402


class QModel:
    def __init__(self, graph):
        self.graph = graph
        self.calibration_fingerprint = "test"


@pytest.fixture
def lab(tmp_path, monkeypatch):
    from edgeq_qnn.target import QnnTarget

    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    monkeypatch.delenv(ENV_SDK, raising=False)
    b = single_op_graph("conv")
    (tmp_path / "art").mkdir()
    art = QnnTarget().emit(QModel(b.g), tmp_path / "art", BuildOptions(extra={"htp_arch": 75}))
    sdk = write_fake_sdk(tmp_path / "qairt", htp_arch=75)
    with FakeAdbServer(tmp_path / "devices") as server:
        device = server.add_device("FAKE01")
        lab = type("Lab", (), {})()
        lab.server, lab.device, lab.artifact, lab.sdk, lab.graph = server, device, art, sdk, b.g
        lab.feeds = [b.feed(seed) for seed in range(3)]
        lab.runner = lambda **kw: AdbRunner(**{"device": "FAKE01", "qnn_sdk_root": sdk,
                                              "adb_port": server.port, "samples": 2, "timeout": 120, **kw})
        yield lab


def test_push_run_parse_pull(lab):
    from edgeq.sdk import run_quantized
    from edgeq_qnn.runners.host import HostRunner

    refs = [run_quantized(lab.graph, f) for f in lab.feeds]
    rep = lab.runner().profile(lab.artifact, lab.feeds, references=refs)
    host = HostRunner()
    for feed, out in zip(lab.feeds, rep.outputs):
        np.testing.assert_array_equal(out["y"], host.run(lab.artifact, feed)["y"])
    assert rep.accuracy["samples"] == 3
    assert len(rep.latency.samples_ms) == 2 and rep.latency.p50_ms > 0
    assert rep.latency.load_ms is not None and rep.latency.load_ms > 0
    assert rep.extra["profile"]["accelerator_us"] > 0
    # the real tool's flags, with the pushed context binary
    cmds = [c for c in lab.device.commands if "./qnn-net-run " in c]
    assert cmds and all("--retrieve_context" in c and "--profiling_level basic" in c for c in cmds)
    assert any("model_ctx_qnn.bin" in c for c in cmds)
    assert "sync:" in lab.server.requests
    assert lab.device.workdirs() == []


def test_missing_sdk_is_a_clear_error(lab, tmp_path):
    with pytest.raises(DeviceError, match="QNN_SDK_ROOT"):
        AdbRunner(device="FAKE01", adb_port=lab.server.port).profile(lab.artifact, lab.feeds[:1])
    (lab.sdk / "lib/aarch64-android/libQnnHtp.so").unlink()
    with pytest.raises(DeviceError, match="libQnnHtp.so"):
        lab.runner().profile(lab.artifact, lab.feeds[:1])


def test_profile_viewer_parser_rejects_other_text():
    text = """Init Stats:
-----------
    NetRun: 171679 us

Execute Stats (Average):
------------------------
Total Inference Time:
---------------------
Graph 0 (g):
    NetRun: 6432 us
    Backend (QNN accelerator (execute) time): 6342 us
"""
    s = parse_profile_viewer(text)
    assert (s.init_us, s.execute_us, s.accelerator_us) == (171679, 6432, 6342)
    with pytest.raises(DeviceError, match="Execute Stats"):
        parse_profile_viewer("hello")
