"""The host transport shares the session contract with the adb transport."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edgeq.devices.base import quote_command
from edgeq.devices.host import HostTransport
from edgeq.errors import DeviceError

HOSTILE = ["with space", "it's", "x;touch PWNED;", "$(touch PWNED)", "`touch PWNED`", "-rf", "a\nb"]


def test_quote_command_is_literal(tmp_path):
    t = HostTransport(tmp_path)
    res = t.run(["printf", "%s|", *HOSTILE], timeout=10, cwd=str(tmp_path))
    assert res.stdout == "|".join(HOSTILE) + "|"
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()
    assert quote_command(["a b"], cwd="/x y", env={"K": "v w"}) == "cd '/x y' && export K='v w'; 'a b'"
    with pytest.raises(ValueError):
        quote_command(["true"], env={"A;B": "1"})


def test_session_push_run_pull_and_cleanup(tmp_path):
    t = HostTransport(tmp_path / "base")
    src = tmp_path / "it's a $(file).bin"
    src.write_bytes(os.urandom(5000))
    with t.session() as s:
        remote = s.push(src)
        assert Path(remote).parent == Path(s.workdir)
        assert s.run(["wc", "-c", remote], timeout=10).stdout.split()[0] == "5000"
        back = s.pull(Path(remote).name, tmp_path / "back.bin")
        assert back.read_bytes() == src.read_bytes()
        workdir = Path(s.workdir)
    assert not workdir.exists()


def test_exit_status_and_timeout(tmp_path):
    t = HostTransport(tmp_path)
    assert t.run("exit 4", timeout=10, check=False).returncode == 4
    with pytest.raises(DeviceError, match="exited with status 4"):
        t.run("echo oops >&2; exit 4", timeout=10)
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="timed out after 0.5s"):
        t.run("sleep 20 & sleep 20", timeout=0.5)
    assert time.monotonic() - t0 < 5


def test_facts():
    f = HostTransport().facts()
    assert f.kind == "host" and f.serial and f.abi and f.os_version
