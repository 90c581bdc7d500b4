"""The host as a transport: the same session contract as a phone, on this machine.

Runners that execute on the host (e.g. a Linux ``benchmark_model`` build, or any
command-line runtime) use it so that host and device runs share one code path and one
report format. Commands run with ``/bin/sh -c`` in their own process group so that a
timeout kills the whole command, children included.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Sequence

from edgeq.devices.base import CommandResult, DeviceFacts, Transport, quote_command, tail
from edgeq.errors import DeviceError


def _cpu_model() -> str | None:
    """CPU model from /proc/cpuinfo (Linux) or platform.processor() elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


class HostTransport(Transport):
    """Runs commands on this machine, in a temporary directory per session."""

    kind = "host"

    def __init__(self, base_dir: str | os.PathLike | None = None):
        self.base_dir = str(base_dir or tempfile.gettempdir())

    @property
    def serial(self) -> str:
        return socket.gethostname() or "localhost"

    def facts(self) -> DeviceFacts:
        uname = platform.uname()
        return DeviceFacts(
            serial=self.serial, kind="host", model=uname.node or None, soc=_cpu_model(),
            abi=uname.machine or None, os_version=f"{uname.system} {uname.release}",
            extra={"python": platform.python_version(), "cpu_count": os.cpu_count()})

    def push(self, local: Path, remote: str, *, mode: int = 0o644) -> None:
        try:
            shutil.copyfile(local, remote)
            os.chmod(remote, mode)
        except OSError as exc:
            raise DeviceError(f"host: copying {local} to {remote} failed: {exc}") from exc

    def pull(self, remote: str, local: Path) -> None:
        tmp = Path(str(local) + ".part")
        try:
            shutil.copyfile(remote, tmp)
            os.replace(tmp, local)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DeviceError(f"host: copying {remote} to {local} failed: {exc}") from exc

    def make_workdir(self, prefix: str = "edgeq-") -> str:
        Path(self.base_dir).mkdir(parents=True, exist_ok=True)
        return tempfile.mkdtemp(prefix=prefix, dir=self.base_dir)

    def remove(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def run(self, args: Sequence[str] | str, *, timeout: float, cwd: str | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> CommandResult:
        cmd = quote_command(args, cwd=cwd, env=env)
        t0 = time.monotonic()
        proc = subprocess.Popen(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise DeviceError(f"host: command timed out after {timeout:g}s: {cmd}; raise the "
                              "timeout or check that the runner is not stuck") from None
        res = CommandResult(cmd, proc.returncode, out.decode("utf-8", "replace"),
                            err.decode("utf-8", "replace"), time.monotonic() - t0)
        if check and res.returncode != 0:
            raise DeviceError(f"host: command exited with status {res.returncode}: {cmd}\n"
                              f"{tail(res.output)}")
        return res
