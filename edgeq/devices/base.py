"""The transport contract shared by every runner: a place to push files to, run
commands in, and pull results from — the host itself or a phone over adb.

A runner never talks to adb or ``subprocess`` directly. It opens a :class:`Session`
(a fresh working directory that is always removed afterwards), pushes what it needs,
runs commands with an exit code and a deadline, and pulls the results::

    with transport.session() as s:
        model = s.push(local_model)                  # -> remote path inside s.workdir
        res = s.run([model_runner, f"--graph={model}"], timeout=120)
        s.pull("out.bin", local_dir / "out.bin")

Commands are given as argument lists and every element is quoted with
:func:`shlex.quote` before it reaches a shell, so file names with spaces, quotes,
``;`` or ``$(...)`` are passed through literally. :func:`quote_command` is the one
place that builds a shell command line from arguments.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import posixpath
import secrets
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from edgeq.errors import DeviceError

log = logging.getLogger(__name__)

#: how much of a failing command's output is repeated in an error message
ERROR_TAIL_CHARS = 1500


def quote_command(args: Sequence[str] | str, *, cwd: str | None = None,
                  env: Mapping[str, str] | None = None) -> str:
    """A POSIX shell command line running ``args`` literally.

    ``args`` as a list: each element is quoted (the safe form). A plain string is taken
    as an already-built script — only code in edgeq that quotes its own pieces passes one.
    ``cwd`` and ``env`` are quoted the same way.
    """
    cmd = args if isinstance(args, str) else " ".join(shlex.quote(str(a)) for a in args)
    if env:
        assigns = []
        for k, v in env.items():
            if not k.replace("_", "").isalnum() or k[0].isdigit():
                raise ValueError(f"invalid environment variable name {k!r}")
            assigns.append(f"{k}={shlex.quote(str(v))}")
        cmd = "export " + " ".join(assigns) + "; " + cmd
    if cwd:
        cmd = f"cd {shlex.quote(cwd)} && {cmd}"
    return cmd


def tail(text: str, limit: int = ERROR_TAIL_CHARS) -> str:
    """The last ``limit`` characters of ``text`` (what an error message quotes)."""
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


@dataclass
class CommandResult:
    """Outcome of one command on a transport."""

    command: str
    returncode: int
    stdout: str
    stderr: str = ""
    duration_s: float = 0.0

    @property
    def output(self) -> str:
        """stdout followed by stderr (what a human would have seen)."""
        return self.stdout + (("\n" + self.stderr) if self.stderr else "")


@dataclass
class DeviceFacts:
    """What a report says about the machine a model ran on.

    ``kind`` is ``"android"`` or ``"host"``; ``extra`` keeps anything else a transport
    knows (manufacturer, SDK level, board, CPU model …).
    """

    serial: str
    kind: str
    model: str | None = None
    soc: str | None = None
    abi: str | None = None
    os_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Transport(abc.ABC):
    """A device a runner can use. Subclasses implement the primitive operations; the
    session logic (working directory, cleanup) lives here once."""

    #: short name for messages: "host" or "adb"
    kind: str = ""
    #: base directory for per-run working directories on the device
    base_dir: str = "/tmp"

    @property
    @abc.abstractmethod
    def serial(self) -> str:
        """Identifier of the device (adb serial, or host name)."""

    @abc.abstractmethod
    def facts(self) -> DeviceFacts:
        """Model, SoC, ABI and OS version of the device."""

    @abc.abstractmethod
    def push(self, local: Path, remote: str, *, mode: int = 0o644) -> None:
        """Copy a local file to ``remote`` (a full device path)."""

    @abc.abstractmethod
    def pull(self, remote: str, local: Path) -> None:
        """Copy the device file ``remote`` to ``local`` (written atomically)."""

    @abc.abstractmethod
    def run(self, args: Sequence[str] | str, *, timeout: float, cwd: str | None = None,
            env: Mapping[str, str] | None = None, check: bool = True) -> CommandResult:
        """Run a command on the device; ``check`` raises :class:`DeviceError` on a
        non-zero exit. A command still running after ``timeout`` seconds is a
        :class:`DeviceError` too."""

    def describe(self) -> str:
        return f"{self.kind} device {self.serial!r}"

    # -- sessions ---------------------------------------------------------------------

    def make_workdir(self, prefix: str = "edgeq-") -> str:
        """Create a fresh, uniquely named directory under :attr:`base_dir`."""
        path = posixpath.join(self.base_dir, f"{prefix}{secrets.token_hex(6)}")
        self.run(["mkdir", "-p", path], timeout=30)
        return path

    def remove(self, path: str) -> None:
        """Delete ``path`` recursively on the device."""
        self.run(["rm", "-rf", path], timeout=60)

    @contextlib.contextmanager
    def session(self, prefix: str = "edgeq-") -> Iterator["Session"]:
        """A working directory for one run, removed afterwards whatever happens.

        If the removal itself fails (e.g. the device is gone) the original error is
        kept and a warning says which directory to delete by hand.
        """
        workdir = self.make_workdir(prefix)
        log.debug("%s: working directory %s", self.describe(), workdir)
        try:
            yield Session(self, workdir)
        finally:
            try:
                self.remove(workdir)
            except DeviceError as exc:
                log.warning("%s: could not remove %s (%s); delete it by hand", self.describe(),
                            workdir, exc)


class Session:
    """One run's working directory on a transport (see :meth:`Transport.session`)."""

    def __init__(self, transport: Transport, workdir: str):
        self.transport = transport
        self.workdir = workdir

    def path(self, *parts: str) -> str:
        """A device path inside the working directory."""
        for p in parts:
            if p in ("", ".", "..") or "/" in p:
                raise ValueError(f"invalid file name for the device working directory: {p!r}")
        return posixpath.join(self.workdir, *parts)

    def mkdir(self, name: str) -> str:
        path = self.path(name)
        self.transport.run(["mkdir", "-p", path], timeout=30)
        return path

    def push(self, local: str | Path, name: str | None = None, *, subdir: str | None = None,
             executable: bool = False) -> str:
        """Copy ``local`` into the working directory (keeping its name unless ``name``
        is given); returns the device path."""
        local = Path(local)
        if not local.is_file():
            raise DeviceError(f"{local}: no such file to push to {self.transport.describe()}")
        parts = ([subdir] if subdir else []) + [name or local.name]
        remote = self.path(*parts)
        t0 = time.monotonic()
        self.transport.push(local, remote, mode=0o755 if executable else 0o644)
        log.debug("pushed %s (%d bytes) in %.2fs", remote, local.stat().st_size, time.monotonic() - t0)
        if executable:
            self.transport.run(["chmod", "755", remote], timeout=30)
        return remote

    def pull(self, name_or_path: str, local: str | Path) -> Path:
        """Copy a file of the working directory (or a full device path) to ``local``."""
        remote = name_or_path if name_or_path.startswith("/") else self.path(name_or_path)
        local = Path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        self.transport.pull(remote, local)
        return local

    def run(self, args: Sequence[str] | str, *, timeout: float, env: Mapping[str, str] | None = None,
            check: bool = True) -> CommandResult:
        """Run a command with the working directory as current directory."""
        return self.transport.run(args, timeout=timeout, cwd=self.workdir, env=env, check=check)
