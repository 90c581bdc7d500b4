"""A fake Android device: a sandbox directory standing in for the device file system,
/bin/sh standing in for the device shell, and switches for injecting faults.

Device paths are mapped into the sandbox: ``/data/local/tmp/x`` is
``<root>/data/local/tmp/x`` on the host. Shell commands are rewritten the same way
(absolute paths under /data, /sdcard, /storage and /system get the sandbox root in
front) and the root is stripped from their output again, so the client sees device
paths only. ``getprop`` is a small script in ``<root>/system/bin`` answering from
:attr:`FakeDevice.props`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DEVICE_ROOTS = ("data", "sdcard", "storage", "system")
# an absolute device path starts after a quote, blank, '=', ':' or at the start
_PATH_RE = re.compile(r"(?<![\w.\-/])/(%s)(?=/|\b)" % "|".join(DEVICE_ROOTS))

GETPROP = '''#!{python}
import json, sys
props = json.load(open({props!r}))
if len(sys.argv) > 1:
    print(props.get(sys.argv[1], ""))
else:
    for k in sorted(props):
        print("[%s]: [%s]" % (k, props[k]))
'''

DEFAULT_PROPS = {
    "ro.product.model": "Pixel 8",
    "ro.product.manufacturer": "Google",
    "ro.soc.model": "Tensor G3",
    "ro.soc.manufacturer": "Google",
    "ro.board.platform": "zuma",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
}


@dataclass
class Faults:
    """Fault switches; tests set them on a live device.

    - ``disconnect_push``: how many SEND requests to cut after ``disconnect_after_bytes``
      bytes (the connection is dropped, the device stays connected);
    - ``vanish_on``: the device disappears (unplugged) when a shell command containing
      this text starts;
    - ``benchmark``: behaviour of the fake ``benchmark_model`` — "ok", "hang", "exit"
      (non-zero status), "garbage" (unparseable output) or "legacy" (a version without
      ``--output_filepath``);
    - ``quota_bytes``: the device disk size; writes beyond it fail with ENOSPC.
    """

    disconnect_push: int = 0
    disconnect_after_bytes: int = 1024
    vanish_on: str | None = None
    benchmark: str = "ok"
    quota_bytes: int | None = None


@dataclass
class FakeDevice:
    serial: str
    root: Path
    state: str = "device"
    props: dict = field(default_factory=lambda: dict(DEFAULT_PROPS))
    features: str = "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,abb_exec"
    transport_id: int = 1
    faults: Faults = field(default_factory=Faults)
    present: bool = True

    def __post_init__(self):
        self.root = Path(self.root)
        for d in ("data/local/tmp", "sdcard", "system/bin"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.commands: list[str] = []
        self.started: list[float] = []  # time.monotonic() of every command
        self.write_props()

    def write_props(self) -> None:
        props_file = self.root / "system" / "props.json"
        props_file.write_text(json.dumps(self.props))
        getprop = self.root / "system" / "bin" / "getprop"
        getprop.write_text(GETPROP.format(python=sys.executable, props=str(props_file)))
        getprop.chmod(0o755)

    # -- paths --------------------------------------------------------------------------

    def map_path(self, device_path: str) -> Path:
        if not device_path.startswith("/"):
            raise ValueError(f"not an absolute device path: {device_path!r}")
        host = Path(os.path.normpath(self.root / device_path.lstrip("/")))
        if host != self.root and self.root not in host.parents:
            raise ValueError(f"path escapes the sandbox: {device_path!r}")
        return host

    def rewrite(self, command: str) -> str:
        return _PATH_RE.sub(lambda m: f"{self.root}/{m.group(1)}", command)

    def pushed(self, host_path: Path) -> None:
        """Shell scripts are commands too: map the device paths inside them."""
        if host_path.suffix == ".sh":
            host_path.write_text(self.rewrite(host_path.read_text()))

    def unmap(self, data: bytes) -> bytes:
        return data.replace(str(self.root).encode(), b"")

    def disk_used(self) -> int:
        total = 0
        for dirpath, _, files in os.walk(self.root / "data"):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
        return total

    def workdirs(self) -> list[str]:
        """edgeq working directories left in /data/local/tmp."""
        return sorted(p.name for p in (self.root / "data/local/tmp").glob("edgeq-*"))

    # -- shell --------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "PYTHONPATH")}
        env.update(PATH=f"{self.root}/system/bin:/usr/local/bin:/usr/bin:/bin",
                   HOME=str(self.root / "data/local/tmp"), TMPDIR=str(self.root / "data/local/tmp"),
                   EDGEQ_FAKE_BM_MODE=self.faults.benchmark, EDGEQ_FAKE_ROOT=str(self.root))
        return env

    def spawn(self, command: str, *, merge_stderr: bool) -> subprocess.Popen:
        with self.lock:
            self.commands.append(command)
            self.started.append(time.monotonic())
        return subprocess.Popen(
            ["/bin/sh", "-c", self.rewrite(command)], cwd=self.root, env=self.env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, start_new_session=True)

    def should_vanish(self, command: str) -> bool:
        needle = self.faults.vanish_on
        if needle and needle in command:
            self.present = False
            return True
        return False
