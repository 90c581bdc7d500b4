"""The Android runner (``--runner adb``): a TFLite artifact on phones, over adb.

Latency and accuracy both come from TFLite's ``benchmark_model`` binary for Android,
found (in this order) from the ``runner_bin`` option (``--runner-bin`` / config), the
``EDGEQ_TFLITE_BENCHMARK_MODEL`` environment variable; a value ``device:/path`` names
a binary already on the phone, anything else a host file that is pushed for the run.

One device session (``/data/local/tmp/edgeq-<random>``, always removed) does:

1. push the model (under its own file name), the binary and the evaluation inputs as
   raw tensor files in the model's input order and dtype;
2. a bulk run: ``--num_runs=runs --warmup_runs=warmup`` (+ ``--enable_op_profiling``),
   parsed for init time, warm-up, mean/std/min/max, memory and the per-op table;
3. ``samples`` single-inference invocations (each after its own warm-up) whose times
   give p50/p90 — ``benchmark_model`` prints no percentiles;
4. one invocation per evaluation sample with ``--input_layer(_shape|_value_files)`` and
   ``--output_filepath`` (TensorFlow ≥ 2.11 / LiteRT), pulling each output file back:
   the outputs' raw bytes concatenated in the interpreter's output order.

Feeds and outputs are converted exactly as the host runner does (NCHW↔NHWC, int8 I/O
quantization from the manifest), so reports from ``host`` and ``adb`` compare directly.
``device="all"`` profiles every connected device in parallel, one section each.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import DEFAULT_ADB_DIR as DEFAULT_BASE_DIR
from edgeq.sdk import (AdbTransport, Artifact, DeviceError, EdgeqError, ProfileReport, RetryPolicy,
                       Runner, Session, UsageError, progress, quote_command, select_devices, tail)
from edgeq.sdk import combine_reports as combine
from edgeq_tflite.runners.benchmark_output import (BenchmarkOutput, latency_from_benchmark,
                                                   parse_benchmark_output)

log = logging.getLogger(__name__)

ENV_BINARY = "EDGEQ_TFLITE_BENCHMARK_MODEL"
DELEGATE_FLAGS = {"xnnpack": ["--use_xnnpack=true"], "gpu": ["--use_gpu=true"],
                  "nnapi": ["--use_nnapi=true"], "builtin": ["--use_xnnpack=false"]}
HOW_TO_GET = (
    "get TFLite's benchmark_model for Android for the phone's ABI (arm64-v8a: the "
    "'android_aarch64_benchmark_model' prebuilt of the TensorFlow / LiteRT tools, or build it with "
    "'bazel build -c opt --config=android_arm64 //tensorflow/lite/tools/benchmark:benchmark_model'), "
    f"then pass --runner-bin PATH or set {ENV_BINARY}=PATH")
_MARK = re.compile(r"^@@edgeq-run (\d+) (\d+)$", re.M)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_./\-]+$")


def _tensor_io(model: Path) -> tuple[list[dict], list[dict]]:
    """Inputs and outputs of subgraph 0 in interpreter order: name, shape, numpy dtype."""
    from ai_edge_litert import schema_py_generated as fb

    types = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
    buf = model.read_bytes()
    sub = fb.Model.GetRootAs(buf, 0).Subgraphs(0)

    def info(i: int) -> dict:
        t = sub.Tensors(i)
        tname = types.get(t.Type(), "?").lower()
        if tname not in ("float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool"):
            raise UsageError(f"{model}: tensor {t.Name().decode()!r} has type {tname}; the adb runner "
                             "feeds and reads numeric tensors only")
        return {"name": t.Name().decode(), "shape": [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else [],
                "dtype": np.dtype(tname)}

    return ([info(sub.Inputs(i)) for i in range(sub.InputsLength())],
            [info(sub.Outputs(i)) for i in range(sub.OutputsLength())])


class AdbRunner(Runner):
    """TFLite's benchmark_model on Android devices (see the module docstring)."""

    name = "adb"
    targets = ("tflite",)
    # without feeds, benchmark_model times random inputs (and no outputs come back)
    requires_feeds = False

    def __init__(self, threads: int | None = 1, delegate: str | None = "xnnpack", device: str | None = None,
                 runner_bin: str | os.PathLike | None = None, op_profiling: bool = False,
                 samples: int = 10, timeout: float = 600.0, adb_host: str | None = None,
                 adb_port: int | None = None, base_dir: str = DEFAULT_BASE_DIR, retries: int = 3,
                 timeout_s: float | None = None, **_ignored) -> None:
        """Options (``None`` means the default): ``threads`` (``--num_threads``, -1 for the
        tool's own default), ``delegate`` xnnpack | gpu | nnapi | builtin, ``device`` a
        serial or "all", ``runner_bin`` (see the module docstring), ``op_profiling``,
        ``samples`` single-run invocations for p50/p90, ``timeout`` / ``timeout_s`` seconds
        per device command, ``adb_host``/``adb_port`` of the adb server, ``base_dir`` for
        the working directories, ``retries`` for transient connection losses."""
        threads = 1 if threads is None else threads
        delegate = delegate or "xnnpack"
        timeout = timeout_s if timeout_s is not None else timeout
        if int(threads) < 1 and int(threads) != -1:
            raise UsageError(f"threads must be >= 1 (or -1 for the tool's default), got {threads}")
        if delegate not in DELEGATE_FLAGS:
            raise UsageError(f"delegate {delegate!r} is not one of {', '.join(DELEGATE_FLAGS)} for --runner adb")
        if int(samples) < 1:
            raise UsageError(f"samples must be >= 1 (single-run latency samples), got {samples}")
        if not _SAFE_NAME.match(base_dir):
            raise UsageError(f"device base directory {base_dir!r} must be a plain path "
                             "(letters, digits, _ . / -): benchmark_model's file flags cannot quote")
        self.threads, self.delegate, self.device = int(threads), delegate, device
        self.runner_bin = str(runner_bin) if runner_bin else None
        self.op_profiling, self.samples, self.timeout = bool(op_profiling), int(samples), float(timeout)
        self.adb_host, self.adb_port, self.base_dir = adb_host, adb_port, base_dir
        self.retry = RetryPolicy(attempts=max(1, int(retries)))

    # -- configuration --------------------------------------------------------------

    def binary(self) -> tuple[str, str]:
        """("host", path) or ("device", path) of benchmark_model, or DeviceError."""
        value = self.runner_bin or os.environ.get(ENV_BINARY)
        if not value:
            raise DeviceError(f"no benchmark_model binary given for --runner adb: {HOW_TO_GET}")
        if value.startswith("device:"):
            return "device", value[len("device:"):]
        if not Path(value).is_file():
            raise DeviceError(f"runner binary {value} does not exist on this machine: {HOW_TO_GET}")
        return "host", value

    def transports(self) -> list[AdbTransport]:
        return select_devices(self.device, host=self.adb_host, port=self.adb_port, retry=self.retry,
                              base_dir=self.base_dir)

    @staticmethod
    def _model(artifact: Artifact) -> Path:
        """The artifact's .tflite, verified (``TFLiteTarget.read_artifact``) before its
        tensors are read here or the file reaches a device."""
        from edgeq_tflite.target import TFLiteTarget

        path = artifact.file(artifact.manifest.get("model_file", "model.tflite"))
        if not path.is_file():
            raise UsageError(f"{path}: missing; rebuild the artifact with 'edgeq build'")
        TFLiteTarget().read_artifact(artifact)
        return path

    # -- I/O conversion (same rules as the host runner) ------------------------------

    def _encode(self, artifact: Artifact, io: list[dict], feed: Mapping[str, np.ndarray]) -> list[bytes]:
        from edgeq_tflite.runners.host import HostRunner

        specs = {s["name"]: s for s in artifact.manifest.get("inputs") or []}
        raw = []
        for t in io:
            if t["name"] not in feed:
                raise UsageError(f"missing input {t['name']!r}; the model's inputs are "
                                 f"{[x['name'] for x in io]}")
            spec = specs.get(t["name"])
            value = HostRunner._to_model(spec, feed[t["name"]]) if spec else np.asarray(feed[t["name"]])
            value = np.ascontiguousarray(value, dtype=t["dtype"])
            if list(value.shape) != t["shape"]:
                raise UsageError(f"input {t['name']!r}: got shape {list(value.shape)}, the .tflite "
                                 f"expects {t['shape']}")
            raw.append(value.tobytes())
        return raw

    def _decode(self, artifact: Artifact, io: list[dict], data: bytes, where: str) -> dict[str, np.ndarray]:
        from edgeq_tflite.runners.host import HostRunner

        sizes = [int(np.prod(t["shape"], dtype=np.int64)) * t["dtype"].itemsize for t in io]
        if len(data) != sum(sizes):
            raise DeviceError(f"{where}: benchmark_model wrote {len(data)} output bytes, the model's "
                              f"outputs {[t['name'] for t in io]} need {sum(sizes)}")
        specs = {s["name"]: s for s in artifact.manifest.get("outputs") or []}
        out, offset = {}, 0
        for t, n in zip(io, sizes):
            value = np.frombuffer(data[offset:offset + n], t["dtype"]).reshape(t["shape"])
            offset += n
            spec = specs.get(t["name"])
            out[t["name"]] = HostRunner._from_model(spec, value.copy()) if spec else value.copy()
        return out

    # -- device work -------------------------------------------------------------------

    def _flags(self, model_remote: str) -> list[str]:
        return [f"--graph={model_remote}", f"--num_threads={self.threads}", *DELEGATE_FLAGS[self.delegate]]

    @staticmethod
    def _input_flags(ins: list[dict], files: list[str]) -> list[str]:
        # benchmark_model splits these flags on ',' and ':' without quoting: positional
        # names stand in for tensor names it could not parse (only the order matters).
        names = [t["name"] if _SAFE_NAME.match(t["name"]) else f"input_{i}" for i, t in enumerate(ins)]
        return ["--input_layer=" + ",".join(names),
                "--input_layer_shape=" + ":".join(",".join(str(d) for d in t["shape"]) for t in ins),
                "--input_layer_value_files=" + ",".join(f"{n}:{f}" for n, f in zip(names, files))]

    def _script(self, s: Session, name: str, commands: list[list[str]], where: str) -> list[str]:
        """Run commands on the device in one shell script; one output block per command."""
        text = "".join(f"{quote_command(c)} 2>&1; echo \"@@edgeq-run {i} $?\"\n" for i, c in enumerate(commands))
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / name
            script.write_text(text)
            s.push(script)
        # the timeout bounds each benchmark_model invocation, so a script gets one per command
        res = s.run(["sh", f"./{name}"], timeout=self.timeout * len(commands), check=False)
        blocks, start = [], 0
        for m in _MARK.finditer(res.stdout):
            block = res.stdout[start:m.start()]
            start = m.end() + 1
            if int(m.group(2)) != 0:
                self._failed(where, int(m.group(2)), block + res.stderr)
            blocks.append(block)
        if len(blocks) != len(commands):
            self._failed(where, res.returncode, res.output)
        return blocks

    @staticmethod
    def _failed(where: str, code: int, output: str):
        low = output.lower()
        if "no space left on device" in low:
            raise DeviceError(f"{where}: no space left on device while running benchmark_model; free "
                              f"space under the working directory and run again\n{tail(output)}")
        if code in (126, 127) or "exec format error" in low or "not executable" in low:
            raise DeviceError(f"{where}: the runner binary cannot execute on this device (status {code});"
                              f" it must be built for the phone's ABI — {HOW_TO_GET}\n{tail(output)}")
        raise DeviceError(f"{where}: benchmark_model exited with status {code}\n{tail(output)}")

    def _no_output(self, block: str, where: str, i: int):
        parsed = self._parse(block, f"{where}: benchmark_model")
        if any(f.startswith("--output_filepath") for f in parsed.unconsumed_flags):
            raise DeviceError(f"{where}: this benchmark_model does not support --output_filepath (added "
                              "in TensorFlow 2.11), so outputs cannot be read back for accuracy; use a "
                              f"newer build: {HOW_TO_GET}")
        raise DeviceError(f"{where}: benchmark_model wrote no output file for sample {i}\n{tail(block)}")

    def _parse(self, text: str, where: str) -> BenchmarkOutput:
        try:
            return parse_benchmark_output(text, source=where)
        except DeviceError as exc:
            raise DeviceError(f"{exc}\n(the runner binary must be TFLite's benchmark_model: {HOW_TO_GET})") from None

    def _install(self, t: AdbTransport, s: Session, model: Path, samples: list[list[bytes]],
                 where: str) -> tuple[str, str, list[list[str]]]:
        """Push model, binary and input files; returns (binary, model path, input files).

        Commands run in the working directory and name its files relatively, except
        ``--graph``: its absolute path lets a timeout find the process (``pkill -f``)."""
        kind, binary = self.binary()
        model_remote = s.push(model)
        if kind == "host":
            exe = "./" + posixpath.basename(s.push(binary, "benchmark_model", executable=True))
        else:
            exe = binary
            if t.run(["test", "-x", exe], timeout=30, check=False).returncode != 0:
                raise DeviceError(f"{where}: {exe} is not an executable file on the device: {HOW_TO_GET}")
        files: list[list[str]] = []
        if samples:
            s.mkdir("inputs")
        with tempfile.TemporaryDirectory() as tmp:
            for i, sample in enumerate(samples):
                row = []
                for j, raw in enumerate(sample):
                    local = Path(tmp) / f"in{i}_{j}.bin"
                    local.write_bytes(raw)
                    s.push(local, subdir="inputs")
                    row.append(f"./inputs/{local.name}")
                files.append(row)
        return exe, model_remote, files

    def _latency(self, s: Session, base: list[str], inputs: list[str], runs: int, warmup: int,
                 where: str) -> tuple[BenchmarkOutput, list[float]]:
        """The bulk run, then the single-run invocations that give p50/p90."""
        cmd = base + inputs + [f"--num_runs={runs}", f"--warmup_runs={warmup}", "--min_secs=0",
                               "--warmup_min_secs=0"]
        if self.op_profiling:
            cmd.append("--enable_op_profiling=true")
        res = s.run(cmd, timeout=self.timeout, check=False)
        if res.returncode != 0:
            self._failed(where, res.returncode, res.output)
        bulk = self._parse(res.output, f"{where}: benchmark_model")
        one = base + inputs + ["--num_runs=1", f"--warmup_runs={max(1, warmup)}", "--min_secs=0",
                               "--warmup_min_secs=0"]
        samples_ms = []
        for block in self._script(s, "latency.sh", [one] * self.samples, where):
            out = self._parse(block, f"{where}: benchmark_model (single run)")
            samples_ms.append(out.inference.curr_us / 1e3 if out.inference else out.inference_avg_ms)
        return bulk, samples_ms

    def _outputs(self, s: Session, base: list[str], ins: list[dict], outs: list[dict],
                 files: list[list[str]], artifact: Artifact, where: str) -> list[dict[str, np.ndarray]]:
        """One invocation per sample with --output_filepath; pull and decode every file."""
        s.mkdir("outputs")
        cmds = [base + self._input_flags(ins, row) + [
            "--num_runs=1", "--warmup_runs=0", "--min_secs=0", "--warmup_min_secs=0",
            f"--output_filepath=./outputs/out{i}.bin"] for i, row in enumerate(files)]
        blocks = self._script(s, "accuracy.sh", cmds, where)
        outputs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, block in enumerate(blocks):
                try:
                    local = s.pull(s.path("outputs", f"out{i}.bin"), Path(tmp) / f"out{i}.bin")
                except DeviceError as exc:
                    if "does not exist" not in str(exc):
                        raise
                    self._no_output(block, where, i)
                outputs.append(self._decode(artifact, outs, local.read_bytes(), f"{where}, sample {i}"))
        return outputs

    def _session(self, t: AdbTransport, artifact: Artifact, samples: list[list[bytes]], *,
                 runs: int, warmup: int, latency: bool, show: bool | None) -> ProfileReport:
        """Everything on one device, in one working directory (removed at the end)."""
        model = self._model(artifact)
        ins, outs = _tensor_io(model)
        where = f"device {t.serial!r}"
        facts = t.facts()
        bulk, sample_ms, outputs = None, [], []
        steps = 1 + (1 if latency else 0) + (1 if samples else 0)
        with progress(f"{t.serial}: profiling", steps, enabled=show) as advance, t.session() as s:
            exe, model_remote, files = self._install(t, s, model, samples, where)
            advance(1)
            base = [exe, *self._flags(model_remote)]
            if latency:
                in0 = self._input_flags(ins, files[0]) if files else []
                bulk, sample_ms = self._latency(s, base, in0, runs, warmup, where)
                advance(1)
            if samples:
                outputs = self._outputs(s, base, ins, outs, files, artifact, where)
                advance(1)
        extra = {"options": {"threads": self.threads, "delegate": self.delegate, "runs": runs,
                             "warmup": warmup, "samples": self.samples, "op_profiling": self.op_profiling,
                             "runner_binary": self.binary()[1]}}
        if bulk is not None:
            extra.update({"benchmark": bulk.summary(),
                          "latency_method": "mean/std/min/max/init from one benchmark_model run of "
                                            f"{runs} runs after {warmup} warm-up; p50/p90 from "
                                            f"{self.samples} single-run invocations",
                          "delegates_applied": bulk.delegates, "warnings": bulk.warnings})
        return ProfileReport(
            target="tflite", runner=self.name,
            latency=latency_from_benchmark(bulk, sample_ms) if bulk is not None else None,
            peak_memory_mb=bulk.memory_mb if bulk is not None else None,
            device=facts.to_dict(),
            artifact={"path": str(artifact.path), "model_file": model.name,
                      "size_bytes": model.stat().st_size},
            op_profile=[op.to_dict() for op in bulk.ops] if bulk is not None else [],
            outputs=outputs, extra=extra)

    # -- Runner API ----------------------------------------------------------------------

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        devices = self.transports()
        if len(devices) != 1:
            raise UsageError("run() executes on one device; choose it with --device SERIAL")
        ins, _ = _tensor_io(self._model(artifact))
        rep = self._session(devices[0], artifact, [self._encode(artifact, ins, feeds)], runs=1,
                            warmup=0, latency=False, show=False)
        return rep.outputs[0]

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *, runs: int = 50,
                warmup: int = 5, references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        """Latency (and outputs for ``feeds``) on one device, or every device with
        ``device="all"`` (one report section each). Without feeds, benchmark_model uses
        random inputs and no outputs are returned."""
        self.binary()  # fail before touching devices
        feeds = list(feeds)
        ins, _ = _tensor_io(self._model(artifact))
        samples = [self._encode(artifact, ins, f) for f in feeds]
        devices = self.transports()
        kw = dict(runs=runs, warmup=warmup, latency=True)
        if len(devices) == 1:
            report = self._session(devices[0], artifact, samples, show=None, **kw)
        else:
            with cf.ThreadPoolExecutor(max_workers=len(devices)) as pool:
                futures = {pool.submit(self._session, t, artifact, samples, show=False, **kw): t
                           for t in devices}
                done, errors = {}, []
                for fut in cf.as_completed(futures):
                    try:
                        done[futures[fut].serial] = fut.result()
                    except EdgeqError as exc:
                        errors.append(str(exc))
            if errors:
                raise DeviceError(f"profiling failed on {len(errors)} of {len(devices)} devices: "
                                  + " | ".join(errors))
            report = combine([done[t.serial] for t in devices])
        if references is not None and feeds:
            from edgeq.sdk import attach_accuracy

            attach_accuracy(report, references)
        return report


#: runner classes registered by edgeq_tflite.plugin
RUNNERS = [AdbRunner]
