"""The bad-input corpus: what a case is, the workspace it runs in, and the one check
every case gets.

A case builds its bad input in a fresh workspace and says how to run edgeq on it
(:class:`Invocation`). :func:`run_case` runs it - in this process through
``edgeq.cli.main``, or in a real ``python -m edgeq`` process for signals, resource
limits and environments - and classifies the result (``_tally.OUTCOMES``):

* the exit status is the documented one and the message names the culprit (every
  ``needles`` string appears in stderr): ``clear_error``;
* a traceback (or edgeq's "bug in edgeq" report) anywhere in the output: ``traceback``;
* the output path changed: ``partial``. A failed command must leave its output exactly
  as it found it - the previous complete artifact (verified against its manifest) or
  nothing (an empty directory is allowed: the build checks the output root is writable
  before it calibrates) - and no staging directory behind;
* over the time bound: ``hang``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from _quant_models import cnn_feeds, save, small_cnn

STAGING_GLOB = ".*.tmp"  # edgeq.staging's OUT/.<name>.<random>.tmp


@dataclass
class Invocation:
    """How to run edgeq on one bad input, and what must come out."""

    argv: list[str]
    #: documented exit status (docs/cli.md): 1 input/environment, 2 usage/config, 130 interrupted
    status: int
    #: strings the error output must contain (the culprit: file, node, field …)
    needles: tuple[str, ...]
    #: the output path the command writes (build root, .edgeq file, report directory)
    out: Path | None = None
    #: run as a real process (needed for signals, rlimits, environment variables)
    subprocess: bool = False
    env: dict[str, str] = field(default_factory=dict)
    #: subprocess only: send SIGINT once a stderr line contains this text (then after
    #: ``signal_delay`` s); run the command with -v for edgeq's progress lines
    interrupt_on: str | None = None
    signal_delay: float = 0.0
    #: subprocess only: limit on the size of any file written (RLIMIT_FSIZE), bytes
    fsize_limit: int | None = None
    timeout: float = 90.0
    #: run after the check (unmount a small file system …)
    cleanup: Callable[[], None] | None = None


@dataclass
class Case:
    id: str
    #: model | data | config | output | device
    kind: str
    make: Callable[["Workspace"], Invocation]
    #: seed the output with a previous complete artifact before running
    seed: bool = True


class Workspace:
    """A fresh directory per case holding a good model, good calibration data and a
    previous complete artifact to seed outputs with (built once per session)."""

    def __init__(self, root: Path, good: "GoodBuild") -> None:
        self.root = root
        self.good = good
        self.model = Path(shutil.copy(good.model, root / "cnn.onnx"))
        self.calib = root / "calib"
        shutil.copytree(good.calib, self.calib)
        self.out = root / "out"
        self.cache = root / "cache"

    def calib_for(self, shape: tuple[int, ...], name: str = "x") -> Path:
        """A directory of 4 good .npy samples of ``shape`` (for the small hand-made models)."""
        d = self.root / ("calib_" + "x".join(map(str, shape)))
        if not d.exists():
            d.mkdir()
            rng = np.random.default_rng(0)
            for i in range(4):
                np.save(d / f"{i}.npy", rng.standard_normal(shape).astype(np.float32))
        return d

    def path(self, name: str) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def build(self, model: Path | str, *extra: str, calib: Path | str | None = None, target: str = "tflite",
              status: int = 1, needles: tuple[str, ...] = (), **kw) -> Invocation:
        """``edgeq build MODEL --target T --calib C -o OUT`` expecting ``status``."""
        argv = ["build", str(model), "--target", target, "--calib", str(calib or self.calib),
                "-o", str(self.out), "--layer-sqnr", "0", *extra]
        return Invocation(argv, status, needles, out=self.out, **kw)

    def seed(self, out: Path) -> None:
        """Put the previous complete artifact at ``out/tflite``."""
        out.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.good.artifact, out / "tflite")


@dataclass
class GoodBuild:
    model: Path
    calib: Path
    artifact: Path  # a complete tflite artifact of the model

    @classmethod
    def make(cls, root: Path) -> "GoodBuild":
        from edgeq.cli import main

        model = save(small_cnn(), root / "cnn.onnx")
        calib = root / "calib"
        calib.mkdir()
        for i, feed in enumerate(cnn_feeds(6)):
            np.save(calib / f"{i}.npy", feed["x"])
        old = os.environ.get("EDGEQ_CACHE")
        os.environ["EDGEQ_CACHE"] = str(root / "cache")
        try:
            rc = main(["build", str(model), "--target", "tflite", "--calib", str(calib), "-o", str(root / "good"),
                       "--layer-sqnr", "0"])
        finally:
            if old is None:
                os.environ.pop("EDGEQ_CACHE", None)
            else:
                os.environ["EDGEQ_CACHE"] = old
        assert rc == 0, "the good build of the corpus failed"
        return cls(model, calib, root / "good" / "tflite")


# ----------------------------------------------------------------------------- checking
def snapshot(path: Path | None) -> dict[str, str] | None:
    """``{relative path: sha256}`` of every file under ``path`` (hidden ones included),
    ``{}`` for an empty directory, None when nothing is there."""
    if path is None or not (path.exists() or path.is_symlink()):
        return None
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    out = {}
    for f in sorted(path.rglob("*")):
        rel = f.relative_to(path).as_posix()
        out[rel] = hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else "<dir>"
    return out


def output_intact(before: dict[str, str] | None, after: dict[str, str] | None) -> str | None:
    """None when the output is as it was (or an empty directory was made); else why not."""
    if after == before or (before is None and after == {}):
        return None
    if before is None:
        return f"a new output appeared: {sorted(after or {})[:6]}"
    if after is None:
        return "the previous output was deleted"
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return f"the output changed: {changed[:6]}"


def previous_artifact_verifies(out: Path) -> str | None:
    from edgeq.contracts import Artifact
    from edgeq.errors import EdgeqError

    art = out / "tflite"
    if not art.exists():
        return None
    try:
        Artifact.load(art).verify()
    except EdgeqError as exc:
        return f"the previous artifact no longer verifies: {exc}"
    return None


@dataclass
class Result:
    outcome: str
    status: int | None
    err: str
    problem: str | None = None


class _Hang(BaseException):
    """Raised by the alarm in an in-process run (not an Exception: nothing may catch it)."""


def _run_inprocess(inv: Invocation, capsys) -> tuple[int | None, str, bool]:
    from edgeq.cli import main

    def alarm(signum, frame):
        raise _Hang

    saved = {k: os.environ.get(k) for k in inv.env}
    os.environ.update(inv.env)
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(int(inv.timeout))
    try:
        status = main(inv.argv)
        hung = False
    except _Hang:
        status, hung = None, True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = capsys.readouterr()
    return status, out.out + out.err, hung


def _run_subprocess(inv: Invocation, env: dict[str, str]) -> tuple[int | None, str, bool]:
    def limits() -> None:
        if inv.fsize_limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (inv.fsize_limit, inv.fsize_limit))

    proc = subprocess.Popen([sys.executable, "-m", "edgeq", *inv.argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**env, **inv.env}, preexec_fn=limits)
    lines: list[str] = []
    stdout: list[str] = []
    seen = threading.Event()

    def read_stderr() -> None:
        for line in proc.stderr:
            lines.append(line)
            if inv.interrupt_on and inv.interrupt_on in line:
                seen.set()
        seen.set()  # end of output: stop waiting

    # one reader per pipe, and nothing else reads them (communicate() would race these
    # threads for the last lines)
    readers = [threading.Thread(target=read_stderr, daemon=True),
               threading.Thread(target=lambda: stdout.extend(proc.stdout), daemon=True)]
    for r in readers:
        r.start()

    def collected() -> str:
        for r in readers:
            r.join(10)
        return "".join(stdout) + "".join(lines)

    if inv.interrupt_on is not None:
        seen.wait(inv.timeout)
        time.sleep(inv.signal_delay)
        if proc.poll() is not None:
            return proc.returncode, collected() + "\n[the command ended before it could be interrupted]", False
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=inv.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None, collected(), True
    return proc.returncode, collected(), False


def run_case(case: Case, ws: Workspace, capsys, env: dict[str, str]) -> Result:
    """Build the case's input, run it, and classify what happened."""
    inv = case.make(ws)
    if case.seed and inv.out is not None and not inv.out.exists() and inv.argv[0] == "build":
        ws.seed(inv.out)
    before = snapshot(inv.out)
    try:
        if inv.subprocess:
            status, text, hung = _run_subprocess(inv, env)
        else:
            status, text, hung = _run_inprocess(inv, capsys)
        after = snapshot(inv.out)
        problem = output_intact(before, after) or (previous_artifact_verifies(inv.out)
                                                   if case.seed and inv.out is not None and inv.out.is_dir()
                                                   else None)
        staging = [p.name for p in inv.out.glob(STAGING_GLOB)] if inv.out is not None and inv.out.is_dir() else []
        if staging:
            problem = f"staging directories left behind: {staging}"
    finally:
        if inv.cleanup is not None:
            inv.cleanup()
    if hung:
        return Result("hang", None, text, f"no result within {inv.timeout} s")
    if "Traceback" in text or "bug in edgeq" in text:
        return Result("traceback", status, text, "a traceback was printed")
    if problem:
        return Result("partial", status, text, problem)
    missing = [n for n in inv.needles if n not in text]
    if status != inv.status or missing:
        return Result("unclear", status, text, f"exit status {status} (documented: {inv.status}); "
                                               f"message lacks {missing}" if missing else
                      f"exit status {status} (documented: {inv.status})")
    return Result("clear_error", status, text)
