"""The iPhone runner (``--runner iphone``): an ``ane`` artifact run by Core ML on an iPhone
attached to a Mac over USB, through Apple's ``xcrun devicectl`` and edgeq's profiling app
``EdgeqProfiler`` (``plugins/edgeq_coreml/runners/ios_profiler/``, built and installed
once from Xcode; its README says how).

Contract:

* ``IPhoneRunner(device=None, compute_units=None, delegate=None, runner_bin=None,
  bundle_id="dev.edgeq.profiler", timeout=600)``: ``device`` an identifier, UDID or
  name from ``devicectl list devices`` (default: the only attached iOS device),
  ``compute_units`` / ``--delegate`` as for the mac runner (default: the artifact's
  profile), ``runner_bin`` the path of ``xcrun``.
* ``profile(artifact, feeds, runs, warmup, references)``: writes a request (below),
  copies it into the app's data container, launches the app and waits for it to exit,
  copies the result back and assembles the same ProfileReport as the mac runner
  (latency of ``runs`` timed predictions after ``warmup``, load and on-device compile
  time, every sample's outputs, accuracy against ``references``); ``run`` is one sample.
* Off macOS, without ``xcrun``, with no or several devices, or when the app reports an
  error: TargetUnavailableError / DeviceError saying what to do.

The exchange, flat files in the app's ``Documents`` (devicectl copies files, and the app
rebuilds the package's directories): ``edgeq-req-request.json`` ({"format": 1,
"compute_units", "runs", "warmup", "samples", "inputs": [{"name", "shape", "dtype"}],
"outputs": [names], "files": {flat name: path in the request}}), the package's files
and ``edgeq-req-input-K-I.bin`` (sample K, input I, little-endian float32 / int32); the
app answers with ``edgeq-res-result.json`` ({"format": 1, "compile_ms", "load_ms",
"samples_ms", "device": {"model", "os_version"}, "outputs": [{"name", "shape"}],
"error"}) and ``edgeq-res-output-K-J.bin`` (float32).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import Artifact, DeviceError, ProfileReport, Runner, UsageError

from edgeq_coreml.runners._io import from_model, model_path, to_model
from edgeq_coreml.runners.devicectl import DeviceCtl, select_device
from edgeq_coreml.runners.mac import assemble_report, chosen_units, require_macos, units_for

#: the profiling app's bundle identifier (ios_profiler/README.md)
BUNDLE_ID = "dev.edgeq.profiler"
REQUEST_PREFIX, RESULT_PREFIX = "edgeq-req-", "edgeq-res-"
FORMAT = 1


def write_request(artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], out: Path, *,
                  compute_units: str, runs: int, warmup: int) -> dict[str, Path]:
    """The request files in ``out`` (flat names -> local paths, request.json included)."""
    manifest = artifact.manifest
    pkg = model_path(artifact)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    layout: dict[str, str] = {}
    for f in sorted(pkg.rglob("*")):
        if f.is_file():
            rel = f.relative_to(pkg.parent).as_posix()  # model.mlpackage/Data/…
            flat = REQUEST_PREFIX + "pkg-" + rel.replace("/", "__")
            files[flat], layout[flat] = f, rel
    for k, feed in enumerate(feeds):
        for i, (name, value) in enumerate(to_model(manifest, feed).items()):
            flat = f"{REQUEST_PREFIX}input-{k}-{i}.bin"
            path = out / flat
            path.write_bytes(np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes())
            files[flat], layout[flat] = path, f"inputs/{k}/{name}.bin"
    request = {"format": FORMAT, "model": pkg.name, "compute_units": compute_units, "runs": runs,
               "warmup": warmup, "samples": len(feeds),
               "inputs": [{"name": s.get("coreml_name", s["name"]), "shape": list(s["shape"]),
                           "dtype": "float32" if s["dtype"] in ("float32", "image") else "int32"}
                          for s in manifest["inputs"]],
               "outputs": [s.get("coreml_name", s["name"]) for s in manifest["outputs"]],
               "files": layout}
    path = out / f"{REQUEST_PREFIX}request.json"
    path.write_text(json.dumps(request, indent=1))
    files[path.name] = path
    return files


def read_result(result: dict, outputs_dir: Path, manifest: dict) -> tuple[dict, list[dict]]:
    """The app's result.json and the output files: (result, outputs per sample keyed by IR
    name). A result with ``error`` is a DeviceError."""
    if result.get("error"):
        raise DeviceError(f"EdgeqProfiler on the device: {result['error']}")
    if result.get("format") != FORMAT:
        raise DeviceError(f"EdgeqProfiler answered in format {result.get('format')!r}, edgeq reads "
                          f"{FORMAT}; rebuild the app from plugins/edgeq_coreml/runners/ios_profiler")
    samples = []
    for k in range(int(result.get("samples", 0))):
        raw = {}
        for j, spec in enumerate(result.get("outputs", [])):
            path = outputs_dir / f"{RESULT_PREFIX}output-{k}-{j}.bin"
            if not path.is_file():
                raise DeviceError(f"EdgeqProfiler's result lists output '{spec['name']}' of sample {k} "
                                  f"but {path.name} was not copied back")
            raw[spec["name"]] = np.frombuffer(path.read_bytes(), "<f4").reshape(spec["shape"])
        samples.append(from_model(manifest, raw))
    return result, samples


class IPhoneRunner(Runner):
    name = "iphone"
    targets = ("ane",)

    def __init__(self, device: str | None = None, compute_units: str | None = None,
                 delegate: str | None = None, runner_bin: str | None = None, bundle_id: str = BUNDLE_ID,
                 timeout: float = 600.0, **_ignored) -> None:
        if device == "all":
            raise UsageError("the iphone runner profiles one device at a time; pass --device with its "
                             "name or UDID")
        self.compute_units = chosen_units(compute_units, delegate, self.name)
        self.device, self.bundle_id = device, bundle_id
        self.ctl = DeviceCtl(runner_bin, timeout=timeout)

    def units_for(self, artifact: Artifact) -> str:
        return units_for(artifact, self.compute_units)

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.profile(artifact, [feeds], runs=1, warmup=0).outputs[0]

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 50, warmup: int = 5,
                references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        require_macos(runner="iphone")
        from edgeq_coreml.target import CoreMLTarget

        CoreMLTarget().read_artifact(artifact)  # checked before anything is copied
        units = self.units_for(artifact)
        device = select_device(self.ctl.devices(), self.device)
        with tempfile.TemporaryDirectory(prefix="edgeq-iphone-") as tmp:
            files = write_request(artifact, feeds, Path(tmp) / "request", compute_units=units,
                                  runs=runs, warmup=warmup)
            for flat, local in files.items():
                self.ctl.copy_to(device, self.bundle_id, local, f"Documents/{flat}")
            self.ctl.launch(device, self.bundle_id, ["--edgeq-request", f"Documents/{REQUEST_PREFIX}request.json"])
            back = Path(tmp) / "result"
            back.mkdir()
            self.ctl.copy_from(device, self.bundle_id, f"Documents/{RESULT_PREFIX}result.json",
                               back / f"{RESULT_PREFIX}result.json")
            result = json.loads((back / f"{RESULT_PREFIX}result.json").read_text())
            for k in range(int(result.get("samples", 0)) if not result.get("error") else 0):
                for j in range(len(result.get("outputs", []))):
                    name = f"{RESULT_PREFIX}output-{k}-{j}.bin"
                    self.ctl.copy_from(device, self.bundle_id, f"Documents/{name}", back / name)
            result, outputs = read_result(result, back, artifact.manifest)
        report = assemble_report(artifact, compute_units=units, samples_ms=result["samples_ms"],
                                 load_ms=float(result.get("load_ms", 0.0)), outputs=outputs,
                                 placement=None, references=references, warmup=warmup, runner=self.name,
                                 device={"name": device.name, "udid": device.udid,
                                         "model": result.get("device", {}).get("model") or device.model,
                                         "os_version": result.get("device", {}).get("os_version")
                                         or device.os_version, "transport": device.transport})
        report.extra["compile_ms"] = result.get("compile_ms")
        return report
