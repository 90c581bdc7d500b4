"""The adb transport (edgeq.devices.adb) against the fake adb server, through adbutils."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds fake_adb
from fake_adb import FakeAdbServer  # noqa: E402

pytest.importorskip("adbutils")
from edgeq.devices.adb import AdbTransport, RetryPolicy, make_client, select_devices  # noqa: E402
from edgeq.errors import DeviceError  # noqa: E402

HOSTILE = [
    "plain.bin",
    "with space.bin",
    "it's quoted\".bin",
    "x;rm -rf ..;.bin",
    "$(touch PWNED)",
    "`touch PWNED2`.bin",
    "a|b&c>d<e*?.bin",
    "-n",
    "new\nline.bin",
]


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    with FakeAdbServer(tmp_path / "devices") as srv:
        yield srv


def _transport(server, serial="FAKE01", **kw) -> AdbTransport:
    return select_devices(serial, port=server.port, retry=RetryPolicy(3, 0.01), **kw)[0]


# -- choosing a device -------------------------------------------------------------------

def test_no_device(server):
    with pytest.raises(DeviceError, match="no Android device connected"):
        select_devices(None, port=server.port)


def test_several_devices_need_a_serial(server):
    server.add_device("FAKE01")
    server.add_device("FAKE02")
    with pytest.raises(DeviceError, match=r"several devices connected \(FAKE01, FAKE02\).*--device"):
        select_devices(None, port=server.port)
    assert [t.serial for t in select_devices("FAKE02", port=server.port)] == ["FAKE02"]
    assert [t.serial for t in select_devices("all", port=server.port)] == ["FAKE01", "FAKE02"]


def test_android_serial_env(server, monkeypatch):
    server.add_device("FAKE01")
    server.add_device("FAKE02")
    monkeypatch.setenv("ANDROID_SERIAL", "FAKE02")
    assert [t.serial for t in select_devices(None, port=server.port)] == ["FAKE02"]


def test_unknown_serial_lists_connected(server):
    server.add_device("FAKE01")
    with pytest.raises(DeviceError, match=r"no device with serial 'NOPE'.*FAKE01 \(device\)"):
        select_devices("NOPE", port=server.port)


@pytest.mark.parametrize("state,match", [("unauthorized", "Allow USB debugging"),
                                         ("offline", "offline: reconnect")])
def test_device_states(server, state, match):
    server.add_device("FAKE01", state=state)
    with pytest.raises(DeviceError, match=match):
        select_devices("FAKE01", port=server.port)
    with pytest.raises(DeviceError, match=match):
        select_devices(None, port=server.port)


def test_all_skips_devices_not_ready(server):
    server.add_device("FAKE01")
    server.add_device("FAKE02", state="unauthorized")
    assert [t.serial for t in select_devices("all", port=server.port)] == ["FAKE01"]


def test_no_server_is_reported_and_no_adb_binary_started(monkeypatch):
    import subprocess

    def forbidden(*a, **k):
        raise AssertionError("an adb binary was started")

    monkeypatch.setattr(subprocess, "run", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeviceError, match=f"cannot reach the adb server at 127.0.0.1:{port}"):
        select_devices(None, port=port)


def test_client_honours_env_port(server, monkeypatch):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(server.port))
    assert make_client().server_version() == 41


# -- facts, commands ---------------------------------------------------------------------

def test_facts(server):
    dev = server.add_device("FAKE01")
    dev.props.update({"ro.product.model": "SM-S918B", "ro.soc.model": "SM8550"})
    dev.write_props()
    facts = _transport(server).facts()
    assert (facts.model, facts.soc, facts.abi, facts.os_version) == ("SM-S918B", "SM8550", "arm64-v8a", "14")
    assert facts.kind == "android" and facts.extra["sdk"] == "34"


def test_soc_falls_back_to_board_platform(server):
    dev = server.add_device("FAKE01")
    del dev.props["ro.soc.model"]
    dev.write_props()
    assert _transport(server).facts().soc == "zuma"


def test_run_exit_code_and_streams(server):
    server.add_device("FAKE01")
    t = _transport(server)
    res = t.run("echo out; echo err >&2; exit 7", timeout=10, check=False)
    assert (res.returncode, res.stdout, res.stderr) == (7, "out\n", "err\n")
    with pytest.raises(DeviceError, match=r"exited with status 7.*\n.*out"):
        t.run("echo out; exit 7", timeout=10)


def test_shell_v1_fallback(server):
    server.add_device("FAKE01", features="cmd")
    res = _transport(server).run("echo hi; exit 5", timeout=10, check=False)
    assert (res.returncode, res.stdout) == (5, "hi\n")
    assert not any(r.startswith("shell,v2") for r in server.requests)


def test_timeout_kills_command_and_session_is_cleaned(server):
    dev = server.add_device("FAKE01")
    t = _transport(server)
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="timed out"):
        with t.session() as s:
            s.run("echo started; sleep 30", timeout=1.0)
    assert time.monotonic() - t0 < 10
    assert dev.workdirs() == []


def test_session_removed_after_error(server):
    dev = server.add_device("FAKE01")
    t = _transport(server)
    with pytest.raises(RuntimeError):
        with t.session() as s:
            assert s.workdir.startswith("/data/local/tmp/edgeq-")
            assert dev.workdirs() == [s.workdir.rsplit("/", 1)[1]]
            raise RuntimeError("boom")
    assert dev.workdirs() == []


# -- hostile names -----------------------------------------------------------------------

def test_hostile_file_names_round_trip(server, tmp_path):
    dev = server.add_device("FAKE01")
    canary = dev.root / "data/local/tmp/canary"
    canary.write_text("still here")
    t = _transport(server)
    local = tmp_path / "local"
    local.mkdir()
    with t.session() as s:
        for i, name in enumerate(HOSTILE):
            src = local / name
            src.write_bytes(bytes([i]) * (1000 + i))
            remote = s.push(src)
            assert remote == f"{s.workdir}/{name}"
            # the name reaches the shell as one literal argument
            res = s.run(["wc", "-c", remote], timeout=10)
            assert res.stdout.startswith(f"{1000 + i} ")
            back = s.pull(name, tmp_path / "back" / f"{i}.bin")
            assert back.read_bytes() == src.read_bytes()
        listing = s.run(["ls", "-1", s.workdir], timeout=10).stdout
        assert "PWNED" in listing  # only as the literal file name "$(touch PWNED)"
    assert canary.read_text() == "still here"
    assert not list(dev.root.rglob("PWNED*")) and not list(tmp_path.glob("PWNED*"))
    assert not Path("PWNED").exists()
    assert dev.workdirs() == []


def test_hostile_env_and_cwd(server):
    server.add_device("FAKE01")
    t = _transport(server)
    with t.session() as s:
        sub = s.mkdir("dir $(touch PWNED) ;x")
        res = t.run(["sh", "-c", 'pwd; printf %s "$V"'], cwd=sub, env={"V": "'; touch PWNED; '"},
                    timeout=10)
        assert res.stdout == f"{sub}\n'; touch PWNED; '"
    assert not any(server.devices["FAKE01"].root.rglob("PWNED"))


# -- faults ------------------------------------------------------------------------------

def test_transient_disconnect_mid_push_is_retried(server, tmp_path):
    dev = server.add_device("FAKE01")
    dev.faults.disconnect_push = 2
    src = tmp_path / "model.bin"
    src.write_bytes(b"m" * 300_000)
    t = _transport(server)
    with t.session() as s:
        remote = s.push(src)
        assert s.run(["wc", "-c", remote], timeout=10).stdout.startswith("300000 ")
    assert dev.faults.disconnect_push == 0


def test_persistent_disconnect_mid_push_fails_after_bounded_retries(server, tmp_path):
    dev = server.add_device("FAKE01")
    dev.faults.disconnect_push = 100
    src = tmp_path / "model.bin"
    src.write_bytes(b"m" * 300_000)
    with pytest.raises(DeviceError, match="connection lost during push of model.bin .*3 times"):
        with _transport(server).session() as s:
            s.push(src)
    assert dev.faults.disconnect_push == 97
    assert dev.workdirs() == []
    assert not list(dev.root.rglob("*.sync-tmp"))


def test_full_disk(server, tmp_path):
    dev = server.add_device("FAKE01")
    dev.faults.quota_bytes = 100_000
    src = tmp_path / "big.bin"
    src.write_bytes(b"b" * 200_000)
    with pytest.raises(DeviceError, match="no space left on device while pushing .*big.bin"):
        with _transport(server).session() as s:
            s.push(src)
    assert dev.workdirs() == []


def test_full_disk_reported_from_command_output(server):
    server.add_device("FAKE01")
    with pytest.raises(DeviceError, match="no space left on device while running"):
        _transport(server).run("echo 'write: No space left on device' >&2; exit 1", timeout=10)


def test_device_disappears_mid_command(server):
    dev = server.add_device("FAKE01")
    t = _transport(server)
    dev.faults.vanish_on = "long-running-step"
    with pytest.raises(DeviceError, match="disappeared during command .*long-running-step"):
        t.run("echo long-running-step", timeout=10)
    with pytest.raises(DeviceError, match="disappeared"):
        t.run(["true"], timeout=10)


def test_device_goes_offline_mid_session(server):
    dev = server.add_device("FAKE01")
    t = _transport(server)
    with pytest.raises(DeviceError, match="offline: reconnect"):
        with t.session():
            dev.state = "offline"
            t.run(["true"], timeout=10)


def test_pull_missing_file(server, tmp_path):
    server.add_device("FAKE01")
    with _transport(server).session() as s:
        with pytest.raises(DeviceError, match="does not exist"):
            s.pull("nothing.bin", tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists() and not (tmp_path / "x.bin.part").exists()


# -- the fake server itself, driven by plain adbutils ------------------------------------

def test_fake_server_speaks_what_adbutils_sends(server, monkeypatch):
    import adbutils

    import fake_adb.server as fake_server

    server.add_device("FAKE01")
    server.add_device("FAKE02", state="offline")
    c = adbutils.AdbClient(host="127.0.0.1", port=server.port)
    assert c.server_version() == 41
    assert [(i.serial, i.state, i.tags.get("model")) for i in c.list(extended=True)] == [
        ("FAKE01", "device", "Pixel_8"), ("FAKE02", "offline", "Pixel_8")]
    d = c.device("FAKE01")
    assert d.shell("echo v1; echo err >&2") == "v1\nerr"
    r = d.shell2("echo out; echo err >&2; exit 3", v2=True)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    d.sync.push(b"payload", "/data/local/tmp/new/dir/f.txt", 0o600)
    st = d.sync.stat("/data/local/tmp/new/dir/f.txt")
    assert (st.size, st.mode & 0o777) == (7, 0o600)
    assert d.sync.read_bytes("/data/local/tmp/new/dir/f.txt") == b"payload"
    assert [f.path for f in d.sync.list("/data/local/tmp/new/dir")] == [".", "..", "f.txt"]
    assert d.sync.stat("/data/local/tmp/missing").mtime is None
    with pytest.raises(adbutils.AdbError, match="No such file"):
        d.sync.read_bytes("/data/local/tmp/missing")
    with pytest.raises(adbutils.AdbError, match="device offline"):
        c.device("FAKE02").shell("true")
    # adb servers before 1.0.41 only know host:transport:<serial>
    monkeypatch.setattr(fake_server, "ADB_SERVER_VERSION", 40)
    assert d.shell("echo old") == "old"
    assert "host:transport:FAKE01" in server.requests
