"""Device faults: ``edgeq profile --runner adb`` against the fake adb server (the real
adb wire protocol, tests/fake_adb) with no device, the wrong or several devices, a dead
server, and the fake benchmark_model hanging, crashing, printing garbage or being too
old; pushes cut off, a full device disk, a device unplugged mid-run. No report may be
left behind."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from _corpus import Case, Invocation, Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds fake_adb
from fake_adb import FakeAdbServer, write_benchmark_model  # noqa: E402


def _profile(ws: Workspace, port: int, *extra: str, device: str | None = "FAKE01",
             binary: Path | None = None) -> list[str]:
    art = ws.root / "art"
    if not art.exists():
        ws.seed(art)
    binary = binary or write_benchmark_model(ws.root / "host-tools" / "benchmark_model")
    argv = ["profile", str(art / "tflite"), "--runner", "adb", "--runner-bin", str(binary),
            "--data", str(ws.calib), "--samples", "2", "--runs", "3", "--warmup", "1",
            "-o", str(ws.root / "report"), *extra]
    if device:
        argv += ["--device", device]
    return argv


def _device_case(id, setup, needles, *, device="FAKE01", extra=(), binary=None):
    """``setup(server)`` adds devices and sets their faults."""
    def make(ws: Workspace) -> Invocation:
        server = FakeAdbServer(ws.root / "devices").__enter__()
        setup(server)
        bin_path = ws.root / binary if binary else None
        argv = _profile(ws, server.port, *extra, device=device, binary=bin_path)
        return Invocation(argv, 1, tuple(needles), out=ws.root / "report",
                          env={"ANDROID_ADB_SERVER_PORT": str(server.port)}, timeout=60,
                          cleanup=lambda: server.__exit__(None, None, None))
    return Case(id, "device", make, seed=False)


def _one(fault=None, **faults):
    def setup(server):
        dev = server.add_device("FAKE01")
        for key, value in faults.items():
            setattr(dev.faults, key, value)
    return setup


def _dead_server(ws: Workspace) -> Invocation:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return Invocation(_profile(ws, port), 1, ("127.0.0.1", str(port)), out=ws.root / "report",
                      env={"ANDROID_ADB_SERVER_PORT": str(port)})


CASES: list[Case] = [
    _device_case("device-none-attached", lambda server: None, ["FAKE01"]),
    _device_case("device-none-attached-no-serial", lambda server: None, ["no Android device connected"], device=None),
    _device_case("device-unknown-serial", _one(), ["NOPE42"], device="NOPE42"),
    _device_case("device-offline", lambda server: server.add_device("FAKE01", state="offline"),
                 ["FAKE01", "offline"]),
    _device_case("device-unauthorized", lambda server: server.add_device("FAKE01", state="unauthorized"),
                 ["FAKE01", "unauthorized"]),
    _device_case("device-several-no-serial", lambda server: (server.add_device("FAKE01"),
                                                             server.add_device("FAKE02")),
                 ["FAKE01", "FAKE02", "--device"], device=None),
    Case("device-adb-server-not-running", "device", _dead_server, seed=False),
    _device_case("device-benchmark-hangs", _one(benchmark="hang"), ["timed out"], extra=("--timeout", "3")),
    _device_case("device-benchmark-crashes", _one(benchmark="exit"), ["exited with status 1"]),
    _device_case("device-benchmark-garbage", _one(benchmark="garbage"), ["no inference timings"]),
    _device_case("device-benchmark-too-old", _one(benchmark="legacy"), ["--output_filepath"]),
    _device_case("device-push-cut-off", _one(disconnect_push=1000, disconnect_after_bytes=1000),
                 ["connection lost during push"]),
    _device_case("device-disk-full", _one(quota_bytes=2000), ["no space left on device"]),
    _device_case("device-unplugged-mid-run", _one(vanish_on="--num_runs=3"), ["'FAKE01' disappeared"]),
    _device_case("device-runner-binary-missing", _one(), ["no-such-benchmark_model"],
                 binary="no-such-benchmark_model"),
]
