"""The Android TFLite runner end to end: adbutils → fake adb server (real wire protocol)
→ sandboxed "device" → fake benchmark_model running the .tflite in LiteRT → parse →
pull outputs → compare with an independent numpy reference → reports and gates."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds fake_adb
from fake_adb import FakeAdbServer, write_benchmark_model  # noqa: E402

pytest.importorskip("adbutils")
pytest.importorskip("ai_edge_litert")
from fake_adb.artifacts import make_artifact  # noqa: E402
from fake_adb.tflite_models import build_mlp  # noqa: E402

from edgeq.errors import DeviceError, GateFailure, UsageError  # noqa: E402
from edgeq.types import QDType, QuantParams  # noqa: E402
from edgeq.profile.publish import publish  # noqa: E402
from edgeq.profile.report import load_report, report_to_dict, write_reports  # noqa: E402
from edgeq.profile.report_schema import validate_report  # noqa: E402
from edgeq_tflite.runners.adb import ENV_BINARY, AdbRunner  # noqa: E402

HOSTILE_MODEL = "my model's;rm -rf $(touch PWNED).tflite"


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A fake adb server with one device, the fake benchmark_model and a float model."""
    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    monkeypatch.delenv(ENV_BINARY, raising=False)
    with FakeAdbServer(tmp_path / "devices") as server:
        device = server.add_device("FAKE01")
        mlp = build_mlp(tmp_path / "mlp.tflite", in_dim=64, hidden=256, classes=10)
        lab = type("Lab", (), {})()
        lab.server, lab.device, lab.mlp, lab.tmp = server, device, mlp, tmp_path
        lab.binary = write_benchmark_model(tmp_path / "host-tools" / "benchmark_model")
        lab.artifact = make_artifact(tmp_path / "artifact", mlp)
        rng = np.random.default_rng(7)
        lab.feeds = [{"x0": rng.normal(size=(1, 64)).astype(np.float32)} for _ in range(5)]
        lab.refs = [{"logits": mlp.reference(f)} for f in lab.feeds]
        lab.runner = lambda **kw: AdbRunner(**{"device": "FAKE01", "runner_bin": lab.binary,
                                              "adb_port": server.port, "samples": 3, "timeout": 60, **kw})
        yield lab


def _litert(model: Path, feeds: dict) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model), num_threads=1)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], feeds[d["name"]])
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_full_path_push_run_parse_pull_compare(lab):
    rep = lab.runner(op_profiling=True).profile(lab.artifact, lab.feeds, runs=12, warmup=2,
                                               references=lab.refs)
    # outputs came back from the device file, bit-identical to LiteRT run here
    assert len(rep.outputs) == len(lab.feeds)
    for feed, out in zip(lab.feeds, rep.outputs):
        np.testing.assert_array_equal(out["logits"], _litert(lab.artifact.file("model.tflite"), feed))
    # ... and close to the independent float64 numpy reference
    acc = rep.accuracy
    assert acc["samples"] == 5 and acc["top1_agreement"] == 1.0
    assert acc["sqnr_db"] > 100 and acc["cosine_min"] > 0.999999
    # latency: the bulk run's count and the single-run samples
    lat = rep.latency
    assert lat.runs == 12 and len(lat.samples_ms) == 3
    assert lat.min_ms <= lat.mean_ms <= lat.max_ms
    assert lat.p50_ms == pytest.approx(float(np.median(lat.samples_ms)))
    assert lat.load_ms is not None and lat.load_ms > 0
    assert rep.peak_memory_mb is not None
    # op profile rows are the model's ops, percentages add up
    types = [op["node_type"] for op in rep.op_profile]
    assert types.count("FULLY_CONNECTED") == 2
    assert sum(op["percent"] for op in rep.op_profile) == pytest.approx(100.0, abs=0.05)
    assert rep.device["model"] == "Pixel 8" and rep.device["abi"] == "arm64-v8a"
    # everything went through adbutils' wire protocol, and the device is clean again
    assert "sync:" in lab.server.requests
    assert any(r.startswith("shell,v2,raw:") for r in lab.server.requests)
    assert any(r.startswith("host:tport:serial:FAKE01") for r in lab.server.requests)
    assert lab.device.workdirs() == []
    paths = write_reports(rep, lab.tmp / "out")
    data = json.loads(paths["json"].read_text())
    validate_report(data)
    assert data["sections"][0]["latency"]["runs"] == 12


def test_hostile_model_file_name(lab):
    art = make_artifact(lab.tmp / "hostile", lab.mlp, model_file=HOSTILE_MODEL)
    rep = lab.runner().profile(art, lab.feeds[:2], runs=3, warmup=1, references=lab.refs[:2])
    assert rep.accuracy["top1_agreement"] == 1.0
    assert rep.artifact["model_file"] == HOSTILE_MODEL
    # the name reached the device shell as one literal argument
    args = [a for c in lab.device.commands for a in shlex.split(c)]
    assert any(a.startswith("--graph=/data/local/tmp/edgeq-") and a.endswith("/" + HOSTILE_MODEL)
               for a in args)
    assert not list(lab.tmp.rglob("PWNED")) and not Path("PWNED").exists()
    assert lab.device.workdirs() == []


def test_int8_io_is_quantized_and_dequantized_like_the_host_runner(lab):
    mlp = build_mlp(lab.tmp / "q.tflite", in_dim=64, hidden=256, classes=10, int8_io=True, seed=3)
    art = make_artifact(lab.tmp / "qart", mlp)
    rep = lab.runner().profile(art, lab.feeds[:3], runs=3, warmup=1)
    from edgeq_tflite.runners.host import HostRunner

    host = HostRunner(threads=1)
    qin = QuantParams([mlp.in_quant[0]], [mlp.in_quant[1]], QDType.INT8)
    for feed, out in zip(lab.feeds, rep.outputs):
        assert out["logits"].dtype == np.float32
        np.testing.assert_array_equal(out["logits"], host.run(art, feed)["logits"])
        # the model computes in float between int8 I/O: the float reference on the
        # quantized input, within half an output step (plus float rounding)
        seen = qin.dequantize(qin.quantize(feed["x0"]))
        s_out, z_out = mlp.out_quant
        expected = np.clip(mlp.reference({"x0": seen}), (-128 - z_out) * s_out, (127 - z_out) * s_out)
        assert np.abs(out["logits"] - expected).max() <= 0.5 * s_out + 1e-4


def test_input_names_benchmark_model_cannot_parse(lab):
    mlp = build_mlp(lab.tmp / "two.tflite", in_dim=64, hidden=256, classes=10, inputs=2,
                    input_names=["a:0", "in,put"], seed=5)
    art = make_artifact(lab.tmp / "two", mlp)
    rng = np.random.default_rng(1)
    feeds = [{"a:0": rng.normal(size=(1, 64)).astype(np.float32),
              "in,put": rng.normal(size=(1, 64)).astype(np.float32)} for _ in range(2)]
    out = lab.runner().run(art, feeds[1])
    np.testing.assert_allclose(out["logits"], mlp.reference(feeds[1]), rtol=1e-4, atol=1e-4)
    # swapping the inputs would give a different answer: the order was kept
    np.testing.assert_array_equal(out["logits"], _litert(art.file("model.tflite"), feeds[1]))


def test_all_devices_one_section_each(lab):
    second = lab.server.add_device("FAKE02")
    second.props["ro.product.model"] = "SM-S918B"
    second.write_props()
    rep = lab.runner(device="all").profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1,
                                          references=lab.refs[:2])
    data = report_to_dict(rep)
    assert [s["name"] for s in data["sections"]] == ["FAKE01 (Pixel 8)", "FAKE02 (SM-S918B)"]
    assert all(s["accuracy"]["top1_agreement"] == 1.0 for s in data["sections"])
    with pytest.raises(GateFailure, match="latency_p50_ms<=1e-9.*FAKE01.*FAKE02"):
        publish(rep, lab.tmp / "out", gates=["latency_p50_ms<=1e-9", "top1_agreement>=0.99"],
                junit=lab.tmp / "junit.xml")
    assert len(load_report(lab.tmp / "out" / "report.json")["gates"]) == 4
    assert lab.device.workdirs() == [] and second.workdirs() == []


def test_all_devices_run_in_parallel_and_fail_together(lab):
    second = lab.server.add_device("FAKE02")
    lab.runner(device="all").profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1)
    a, b = lab.device.started, second.started
    assert a[0] < b[-1] and b[0] < a[-1]  # the two sessions overlapped in time
    second.faults.benchmark = "exit"
    with pytest.raises(DeviceError, match=r"profiling failed on 1 of 2 devices: device 'FAKE02'"):
        lab.runner(device="all").profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1)
    assert lab.device.workdirs() == [] and second.workdirs() == []


def test_delegate_and_threads_reach_the_tool(lab):
    rep = lab.runner(delegate="gpu", threads=4).profile(lab.artifact, [], runs=3, warmup=1)
    assert any("GPU" in d for d in rep.extra["delegates_applied"])
    bulk = next(c for c in lab.device.commands if "--num_runs=3" in c)
    assert "--use_gpu=true" in bulk and "--num_threads=4" in bulk
    assert rep.outputs == [] and rep.latency.runs == 3


def test_same_report_format_as_the_host_runner(lab):
    from edgeq_tflite.runners.host import HostRunner

    host = HostRunner().profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1, references=lab.refs[:2])
    adb = lab.runner().profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1, references=lab.refs[:2])
    h, a = report_to_dict(host), report_to_dict(adb)
    validate_report(h)
    validate_report(a)
    assert h.keys() == a.keys() and h["sections"][0].keys() == a["sections"][0].keys()
    assert h["sections"][0]["latency"].keys() == a["sections"][0]["latency"].keys()
    assert h["artifact"]["size_mb"] == a["artifact"]["size_mb"]
    np.testing.assert_array_equal(host.outputs[1]["logits"], adb.outputs[1]["logits"])


# -- runner binary -----------------------------------------------------------------------

def test_missing_runner_binary_says_how_to_get_it(lab):
    with pytest.raises(DeviceError, match=f"bazel build.*benchmark_model.*--runner-bin.*{ENV_BINARY}"):
        AdbRunner(device="FAKE01", adb_port=lab.server.port).profile(lab.artifact, lab.feeds[:1])
    with pytest.raises(DeviceError, match="does not exist on this machine"):
        lab.runner(runner_bin=lab.tmp / "nope").profile(lab.artifact, lab.feeds[:1])


def test_runner_binary_from_env_and_from_the_device(lab, monkeypatch):
    monkeypatch.setenv(ENV_BINARY, str(lab.binary))
    rep = AdbRunner(device="FAKE01", adb_port=lab.server.port, samples=1).profile(
        lab.artifact, [], runs=2, warmup=0)
    assert rep.latency.runs == 2
    write_benchmark_model(lab.device.root / "data/local/tmp/benchmark_model")
    rep = lab.runner(runner_bin="device:/data/local/tmp/benchmark_model").profile(
        lab.artifact, lab.feeds[:1], runs=2, warmup=0)
    assert rep.outputs and rep.extra["options"]["runner_binary"] == "/data/local/tmp/benchmark_model"
    with pytest.raises(DeviceError, match="not an executable file on the device"):
        lab.runner(runner_bin="device:/data/local/tmp/missing").profile(lab.artifact, [], runs=2)
    assert lab.device.workdirs() == []


def test_bad_feeds_are_usage_errors(lab):
    with pytest.raises(UsageError, match="missing input 'x0'"):
        lab.runner().profile(lab.artifact, [{"y": np.zeros((1, 64), np.float32)}])
    with pytest.raises(UsageError, match=r"got shape [\[(]1, 3[\])]"):
        lab.runner().profile(lab.artifact, [{"x0": np.zeros((1, 3), np.float32)}])


# -- faults: each a clear error, no partial report, device directory cleaned ----------------

FAULTS = [
    ("hang", {"timeout": 3}, "timed out"),
    ("exit", {}, r"(?s)exited with status 1.*Failed to allocate tensors"),
    ("garbage", {}, "(?s)no inference timings.*Segmentation"),
    ("legacy", {}, r"does not support --output_filepath \(added in TensorFlow 2.11\)"),
]


@pytest.mark.parametrize("mode,kw,match", FAULTS, ids=[f[0] for f in FAULTS])
def test_benchmark_faults(lab, mode, kw, match):
    lab.device.faults.benchmark = mode
    out = lab.tmp / "report"
    with pytest.raises(DeviceError, match=match):
        rep = lab.runner(**kw).profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1, references=lab.refs[:2])
        publish(rep, out)
    assert not out.exists()
    assert lab.device.workdirs() == []
    if mode == "hang" and shutil.which("pgrep"):  # the hung tool did not outlive the run
        deadline = time.monotonic() + 5
        while subprocess.run(["pgrep", "-f", str(lab.device.root)], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "benchmark_model still running after the timeout"
            time.sleep(0.1)


def test_disconnect_mid_push_is_retried(lab):
    lab.device.faults.disconnect_push = 1
    lab.device.faults.disconnect_after_bytes = 10_000
    rep = lab.runner().profile(lab.artifact, lab.feeds[:2], runs=3, warmup=1, references=lab.refs[:2])
    assert rep.accuracy["top1_agreement"] == 1.0 and lab.device.faults.disconnect_push == 0


def test_persistent_disconnect_mid_push(lab):
    lab.device.faults.disconnect_push = 1000
    lab.device.faults.disconnect_after_bytes = 10_000
    with pytest.raises(DeviceError, match="connection lost during push of mlp|connection lost during push"):
        lab.runner().profile(lab.artifact, lab.feeds[:2], runs=3)
    assert lab.device.workdirs() == []


def test_full_disk(lab):
    lab.device.faults.quota_bytes = 50_000  # the model alone is ~78 kB
    with pytest.raises(DeviceError, match="no space left on device while pushing .*model.tflite"):
        lab.runner().profile(lab.artifact, lab.feeds[:2], runs=3)
    assert lab.device.workdirs() == []


def test_device_disappears_mid_run(lab):
    lab.device.faults.vanish_on = "--num_runs=3"
    out = lab.tmp / "report"
    with pytest.raises(DeviceError, match="'FAKE01' disappeared during command"):
        publish(lab.runner().profile(lab.artifact, lab.feeds[:2], runs=3), out)
    assert not out.exists()
