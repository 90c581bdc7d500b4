"""A stand-in for ``xcrun devicectl`` with one fake iPhone, for the iphone runner's tests
on Linux: the same command lines and ``--json-output`` documents as devicectl
(runners/devicectl.py lists them), an app data container in a directory, and as the
installed app a Python implementation of EdgeqProfiler's side of the exchange that
runs the package with edgeq's program interpreter.

Environment: ``FAKE_DEVICECTL_ROOT`` (the device's containers), ``FAKE_DEVICECTL_DEVICES``
(the JSON of ``result.devices``), ``FAKE_DEVICECTL_APPS`` (installed bundle ids, comma
separated), ``FAKE_DEVICECTL_LOG`` (each command line appended, one JSON list a line).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np


def _opt(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _write(path: str | None, payload: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(payload))


def _error(out: str | None, message: str) -> int:
    _write(out, {"error": {"code": 1, "domain": "com.apple.dt.CoreDeviceError",
                           "userInfo": {"NSLocalizedDescription": {"string": message}}}})
    return 1


def _container(args: list[str]) -> Path | None:
    bundle = _opt(args, "--domain-identifier") or ""
    if bundle not in os.environ.get("FAKE_DEVICECTL_APPS", "").split(","):
        return None
    return Path(os.environ["FAKE_DEVICECTL_ROOT"]) / (_opt(args, "--device") or "") / bundle


def _app(home: Path, request_path: str) -> None:
    """EdgeqProfiler's behaviour (ios_profiler/EdgeqProfiler/Profiler.swift)."""
    from edgeq_coreml.verify import load_program, run_program

    docs = home / "Documents"
    result: dict = {"format": 1, "samples": 0, "compile_ms": 0.0, "load_ms": 0.0, "samples_ms": [],
                    "device": {"model": "iPhone16,1", "os_version": "18.1.0"}, "outputs": [], "error": None}
    try:
        request = json.loads((home / request_path).read_text())
        work = home / "tmp" / "work"
        for flat, rel in request["files"].items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(docs / flat, work / rel)
        t = time.perf_counter()
        prog = load_program(work / request["model"])
        result["load_ms"] = (time.perf_counter() - t) * 1e3
        feeds = []
        for k in range(request["samples"]):
            feeds.append({s["name"]: np.fromfile(work / "inputs" / str(k) / f"{s['name']}.bin",
                                                 "<f4" if s["dtype"] == "float32" else "<i4").reshape(s["shape"])
                          for s in request["inputs"]})
        for k, feed in enumerate(feeds):
            out = run_program(prog, feed)
            for j, name in enumerate(request["outputs"]):
                value = np.asarray(out[name], np.float32)
                if k == 0:
                    result["outputs"].append({"name": name, "shape": list(value.shape)})
                (docs / f"edgeq-res-output-{k}-{j}.bin").write_bytes(value.astype("<f4").tobytes())
        result["samples"] = request["samples"]
        for _ in range(request["warmup"]):
            run_program(prog, feeds[0])
        for _ in range(request["runs"]):
            t = time.perf_counter()
            run_program(prog, feeds[0])
            result["samples_ms"].append((time.perf_counter() - t) * 1e3)
    except Exception as exc:  # the app reports its errors in the result
        result["error"] = f"{type(exc).__name__}: {exc}"
    (docs / "edgeq-res-result.json").write_text(json.dumps(result))


def main(argv: list[str]) -> int:
    log = os.environ.get("FAKE_DEVICECTL_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(argv) + "\n")
    if argv[:1] != ["devicectl"]:
        print(f"xcrun: error: unable to find utility {argv[:1]}", file=sys.stderr)
        return 72
    args = argv[1:]
    out = _opt(args, "--json-output")
    if args[:2] == ["list", "devices"]:
        _write(out, {"result": {"devices": json.loads(os.environ.get("FAKE_DEVICECTL_DEVICES", "[]"))}})
        return 0
    if args[:2] == ["device", "copy"]:
        home = _container(args)
        if home is None:
            return _error(out, f"The app '{_opt(args, '--domain-identifier')}' is not installed.")
        src, dst = _opt(args, "--source"), _opt(args, "--destination")
        if args[2] == "to":
            target = home / dst
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
        else:
            if not (home / src).is_file():
                return _error(out, f"The file '{src}' does not exist in the app's container.")
            shutil.copy(home / src, dst)
        _write(out, {"result": {}})
        return 0
    if args[:3] == ["device", "process", "launch"]:
        # options, then --json-output F, then the bundle id and the app's arguments
        rest = args[args.index("--json-output") + 2:]
        bundle, app_args = rest[0], rest[1:]
        home = _container(args + ["--domain-identifier", bundle])
        if home is None:
            return _error(out, f"The app '{bundle}' is not installed.")
        if "--edgeq-request" in app_args:
            _app(home, app_args[app_args.index("--edgeq-request") + 1])
        _write(out, {"result": {"process": {"processIdentifier": 4242}}})
        return 0
    return _error(out, f"unknown command {args[:3]}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
