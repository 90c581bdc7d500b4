"""The Android runner (``--runner adb``): a QNN artifact on a Snapdragon phone's HTP, over adb.

The QNN SDK's ``qnn-net-run`` loads the context binary the build compiled
(``--retrieve_context``) on the HTP backend (``--backend libQnnHtp.so``), runs every line
of an ``--input_list`` (``name:=file.raw`` per input, float32 raw tensors) and writes
``<output_dir>/Result_<i>/<output>.raw`` (float32). With ``--profiling_level basic`` it
writes ``qnn-profiling-data_0.log``, which the SDK's ``qnn-profile-viewer`` turns into
text ("Init Stats", "Execute Stats (Average)" … in microseconds); that text is parsed
(profile_output.py).

The SDK files come from the user: ``qnn_sdk_root`` (option) or ``QNN_SDK_ROOT``
(``bin/aarch64-android/qnn-net-run`` and ``qnn-profile-viewer``,
``lib/aarch64-android/libQnnHtp.so``, ``libQnnSystem.so``, ``libQnnHtpV<arch>Stub.so``,
``lib/hexagon-v<arch>/unsigned/libQnnHtpV<arch>Skel.so``), or each explicitly
(``runner_bin``, ``viewer_bin``, ``lib_dir``). One device session
(``/data/local/tmp/edgeq-<random>``, always removed) pushes them with the context binary
(and the EPContext model that references it, for on-device ONNX Runtime apps), then:

1. ``samples`` single-line runs of the first input: each one's "Execute Stats (Average)"
   NetRun time is a latency sample (the first run's "Init Stats" is the load time);
2. one run over every evaluation input; the ``Result_<i>`` files are pulled back for
   accuracy against the FP32 model.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import DEFAULT_ADB_DIR as DEFAULT_BASE_DIR
from edgeq.sdk import (AdbTransport, Artifact, DeviceError, LatencyStats, ProfileReport, RetryPolicy,
                       Runner, Session, UsageError, select_devices, tail)
from edgeq_qnn.runners.profile_output import parse_profile_viewer

log = logging.getLogger(__name__)

ENV_SDK = "QNN_SDK_ROOT"
HOW_TO_GET = (f"install the Qualcomm AI Runtime (QNN) SDK and set {ENV_SDK} (or the runner option qnn_sdk_root), "
              "or give runner_bin (qnn-net-run), viewer_bin (qnn-profile-viewer) and lib_dir "
              "(the aarch64-android QNN libraries) explicitly")


def qnn_tensor_name(name: str) -> str:
    """The file name qnn-net-run gives an output: QNN tensor names are C identifiers."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return f"_{out}" if out[:1].isdigit() else out


class AdbRunner(Runner):
    """qnn-net-run on Android devices (see the module docstring)."""

    name = "adb"
    targets = ("qnn",)

    def __init__(self, device: str | None = None, qnn_sdk_root: str | os.PathLike | None = None,
                 runner_bin: str | os.PathLike | None = None, viewer_bin: str | os.PathLike | None = None,
                 lib_dir: str | os.PathLike | None = None, samples: int = 5, timeout: float = 600.0,
                 adb_host: str | None = None, adb_port: int | None = None,
                 base_dir: str = DEFAULT_BASE_DIR, retries: int = 3, timeout_s: float | None = None,
                 **_ignored) -> None:
        if int(samples) < 1:
            raise UsageError(f"samples must be >= 1 (latency runs), got {samples}")
        self.device = device
        self.sdk_root = qnn_sdk_root or os.environ.get(ENV_SDK)
        self.runner_bin, self.viewer_bin, self.lib_dir = runner_bin, viewer_bin, lib_dir
        self.samples = int(samples)
        self.timeout = float(timeout_s if timeout_s is not None else timeout)
        self.adb_host, self.adb_port, self.base_dir = adb_host, adb_port, base_dir
        self.retry = RetryPolicy(attempts=max(1, int(retries)))

    # -- the SDK files -------------------------------------------------------------------

    def sdk_files(self, htp_arch: int) -> dict:
        """``{"net_run": Path, "viewer": Path, "libs": [Path]}`` or DeviceError naming what is missing."""
        root = Path(self.sdk_root) if self.sdk_root else None
        if root is None and not (self.viewer_bin and self.lib_dir):
            raise DeviceError(f"no QNN SDK given for --runner adb: {HOW_TO_GET}")
        net_run = Path(self.runner_bin) if self.runner_bin else root / "bin/aarch64-android/qnn-net-run"
        viewer = Path(self.viewer_bin) if self.viewer_bin else root / "bin/aarch64-android/qnn-profile-viewer"
        lib_dir = Path(self.lib_dir) if self.lib_dir else root / "lib/aarch64-android"
        required = [net_run, viewer, lib_dir / "libQnnHtp.so"]
        missing = [str(p) for p in required if not p.is_file()]
        if missing:
            raise DeviceError(f"QNN SDK files missing: {', '.join(missing)}; {HOW_TO_GET}")
        libs = [lib_dir / "libQnnHtp.so"]
        for name in ("libQnnSystem.so", f"libQnnHtpV{htp_arch}Stub.so", "libQnnHtpPrepare.so",
                     "libQnnHtpNetRunExtensions.so"):
            if (lib_dir / name).is_file():
                libs.append(lib_dir / name)
        skel_dirs = [lib_dir] + ([root / f"lib/hexagon-v{htp_arch}/unsigned"] if root else [])
        for d in skel_dirs:
            skel = d / f"libQnnHtpV{htp_arch}Skel.so"
            if skel.is_file():
                libs.append(skel)
                break
        return {"net_run": net_run, "viewer": viewer, "libs": libs}

    def transports(self) -> list[AdbTransport]:
        return select_devices(self.device, host=self.adb_host, port=self.adb_port, retry=self.retry,
                              base_dir=self.base_dir)

    @staticmethod
    def _context(artifact: Artifact) -> dict:
        ctx = artifact.manifest.get("qnn", {}).get("context")
        if not ctx:
            raise UsageError(f"{artifact.path}: no context binary in this artifact; rebuild with "
                             "context_binary: true")
        for key in ("binary_file", "model_file"):
            if not artifact.file(ctx[key]).is_file():
                raise UsageError(f"{artifact.file(ctx[key])}: missing; rebuild with 'edgeq build'")
        from edgeq_qnn.target import QnnTarget

        QnnTarget().read_artifact(artifact)  # checked before anything reaches the device
        return ctx

    # -- device work -----------------------------------------------------------------------

    def _net_run(self, s: Session, binary: str, input_list: str, out_dir: str, where: str) -> str:
        env = {"LD_LIBRARY_PATH": s.workdir, "ADSP_LIBRARY_PATH": s.workdir}
        cmd = ["./qnn-net-run", "--retrieve_context", binary, "--backend", "./libQnnHtp.so",
               "--input_list", input_list, "--output_dir", out_dir, "--profiling_level", "basic"]
        res = s.run(cmd, timeout=self.timeout, env=env, check=False)
        if res.returncode != 0:
            raise DeviceError(f"{where}: qnn-net-run exited with status {res.returncode}\n{tail(res.output)}")
        view = s.run(["./qnn-profile-viewer", "--input_log", f"{out_dir}/qnn-profiling-data_0.log"],
                     timeout=self.timeout, env=env, check=False)
        if view.returncode != 0:
            raise DeviceError(f"{where}: qnn-profile-viewer exited with status {view.returncode}\n"
                              f"{tail(view.output)}")
        return view.stdout

    def _write_inputs(self, s: Session, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]],
                      list_name: str) -> None:
        specs = artifact.manifest["inputs"]
        lines = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, feed in enumerate(feeds):
                row = []
                for j, spec in enumerate(specs):
                    if spec["name"] not in feed:
                        raise UsageError(f"missing input '{spec['name']}'; the model's inputs are "
                                         f"{[x['name'] for x in specs]}")
                    v = np.ascontiguousarray(np.asarray(feed[spec["name"]]), dtype=np.float32)
                    if list(v.shape) != list(spec["shape"]):
                        raise UsageError(f"input '{spec['name']}': got shape {list(v.shape)}, the "
                                         f"model expects {spec['shape']}")
                    local = Path(tmp) / f"{list_name}_{i}_{j}.raw"
                    local.write_bytes(v.tobytes())
                    s.push(local, subdir="inputs")
                    row.append(f"{qnn_tensor_name(spec['name'])}:=inputs/{local.name}")
                lines.append(" ".join(row))
            listing = Path(tmp) / f"{list_name}.txt"
            listing.write_text("\n".join(lines) + "\n")
            s.push(listing)

    def _pull_outputs(self, s: Session, artifact: Artifact, out_dir: str, n: int,
                      where: str) -> list[dict[str, np.ndarray]]:
        outputs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(n):
                row = {}
                for spec in artifact.manifest["outputs"]:
                    fname = f"{qnn_tensor_name(spec['name'])}.raw"
                    local = s.pull(f"{s.workdir}/{out_dir}/Result_{i}/{fname}", Path(tmp) / f"{i}_{fname}")
                    data = np.frombuffer(local.read_bytes(), np.float32)
                    if data.size != int(np.prod(spec["shape"])):
                        raise DeviceError(f"{where}: qnn-net-run wrote {data.size} values for output "
                                          f"'{spec['name']}' of sample {i}; the model has "
                                          f"{int(np.prod(spec['shape']))}")
                    row[spec["name"]] = data.reshape(spec["shape"]).copy()
                outputs.append(row)
        return outputs

    def _session(self, t: AdbTransport, artifact: Artifact, feeds, *, latency: bool) -> ProfileReport:
        ctx = self._context(artifact)
        htp_arch = int(artifact.manifest.get("qnn", {}).get("htp_arch") or 75)
        files = self.sdk_files(htp_arch)
        where = f"device {t.serial!r}"
        facts = t.facts()
        samples_ms, load_ms, outputs, parsed = [], None, [], []
        with t.session() as s:
            s.push(files["net_run"], "qnn-net-run", executable=True)
            s.push(files["viewer"], "qnn-profile-viewer", executable=True)
            for lib in files["libs"]:
                s.push(lib)
            binary = Path(s.push(artifact.file(ctx["binary_file"]))).name
            s.push(artifact.file(ctx["model_file"]))
            s.mkdir("inputs")
            if latency:
                self._write_inputs(s, artifact, feeds[:1], "latency")
                for k in range(self.samples):
                    stats = parse_profile_viewer(self._net_run(s, binary, "latency.txt", f"lat{k}", where),
                                                 source=f"{where}: qnn-profile-viewer")
                    parsed.append(stats)
                    samples_ms.append(stats.execute_us / 1e3)
                load_ms = parsed[0].init_us / 1e3 if parsed[0].init_us is not None else None
            if feeds:
                self._write_inputs(s, artifact, feeds, "eval")
                self._net_run(s, binary, "eval.txt", "eval", where)
                outputs = self._pull_outputs(s, artifact, "eval", len(feeds), where)
        report = ProfileReport(
            target="qnn", runner=self.name,
            latency=LatencyStats.from_samples(samples_ms, load_ms=load_ms) if samples_ms else None,
            device=facts.to_dict(),
            artifact={"path": str(artifact.path), "model_file": ctx["binary_file"],
                      "size_bytes": artifact.file(ctx["binary_file"]).stat().st_size},
            outputs=outputs,
            extra={"latency_method": f"'Execute Stats (Average)' NetRun time of {self.samples} "
                                     "single-inference qnn-net-run runs (qnn-profile-viewer)",
                   "profile": parsed[0].to_dict() if parsed else None,
                   "qnn_net_run": str(files["net_run"]), "htp_arch": htp_arch})
        return report

    # -- Runner API ------------------------------------------------------------------------

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        devices = self.transports()
        if len(devices) != 1:
            raise UsageError("run() executes on one device; choose it with --device SERIAL")
        return self._session(devices[0], artifact, [feeds], latency=False).outputs[0]

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *, runs: int = 5,
                warmup: int = 0, references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        feeds = list(feeds)
        if not feeds:
            raise UsageError("profile needs at least one input sample (qnn-net-run reads input files)")
        self._context(artifact)
        self.sdk_files(int(artifact.manifest.get("qnn", {}).get("htp_arch") or 75))  # fail before devices
        devices = self.transports()
        if len(devices) != 1:
            raise UsageError("the QNN adb runner profiles one device at a time; choose it with --device")
        report = self._session(devices[0], artifact, feeds, latency=True)
        if references is not None:
            from edgeq.sdk import attach_accuracy

            attach_accuracy(report, references)
        return report
