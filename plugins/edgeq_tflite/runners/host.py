"""The host runner (``--runner host``): runs a TFLite artifact in LiteRT on this machine.

Contract:

* ``HostRunner(threads=1, delegate="xnnpack", interpreter="auto")``; ``delegate`` is
  ``xnnpack`` (LiteRT's default CPU path), ``builtin`` (optimized builtin kernels, no
  default delegate), ``reference`` (``OpResolverType.BUILTIN_REF``, the reference
  kernels edgeq's integer simulator matches bit for bit) or the path of an external
  delegate library. ``interpreter`` is ``litert`` (``ai-edge-litert``),
  ``tflite-runtime`` (the older standalone interpreter package, same Python API) or
  ``auto``: LiteRT where installed, else tflite-runtime.
* ``run(artifact, feeds)`` takes float feeds in the *source* model's layout (NCHW as in
  ONNX) keyed by input name, converts them to what the .tflite expects (NHWC transpose,
  quantization for int8/uint8 I/O, from the manifest), runs once and returns float
  outputs in the source layout, keyed by output name.
* ``profile(artifact, feeds, runs=50, warmup=5, references=None)``: model load time,
  ``warmup`` untimed invokes then ``runs`` timed invokes (``Interpreter.invoke`` only,
  inputs already set), p50/p90/min/max/std, peak resident memory of load + runs, the
  outputs for every feed, and accuracy against ``references`` (one dict of FP32
  outputs per feed) with :func:`edgeq.profile.accuracy.attach_accuracy`.

Peak memory: on Linux the kernel's resident high-water mark (``VmHWM``) is reset via
``/proc/self/clear_refs`` before loading, so the figure is the process's peak during
load + inference minus its resident size before (a whole-process measure: it includes
LiteRT's own allocations, arena and weights). Elsewhere ``ru_maxrss`` growth is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import (Artifact, DeviceError, LatencyStats, ProfileReport, QuantParams, Runner,
                       UsageError, require_module)

logger = logging.getLogger(__name__)

DELEGATES = ("xnnpack", "builtin", "reference")


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _source_letters(rank: int) -> str:
    """Axis letters of the source (ONNX, channels-first) layout: NCW, NCHW, NCDHW."""
    return "NC" + "DHW"[3 - (rank - 2):]


class _Memory:
    """Peak resident memory of a code region (see the module docstring)."""

    def __enter__(self) -> "_Memory":
        self.base_kb = _status_kb("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.hwm = True
        except OSError:
            import resource

            self.hwm = False
            self.base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc) -> None:
        if self.hwm:
            peak = _status_kb("VmHWM")
        else:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_mb = None if peak is None or self.base_kb is None else max(peak - self.base_kb, 0) / 1024


#: Python packages that provide a TFLite ``Interpreter`` (same API), by ``interpreter`` choice
INTERPRETERS = {"litert": ("ai_edge_litert.interpreter", "ai-edge-litert"),
                "tflite-runtime": ("tflite_runtime.interpreter", "tflite-runtime"),
                "auto": None}


def interpreter_module(choice: str = "auto"):
    """The interpreter module for ``choice``; ``auto`` prefers LiteRT and falls back to
    tflite-runtime. A missing package raises ``TargetUnavailableError`` naming it."""
    import importlib

    if choice != "auto":
        module, package = INTERPRETERS[choice]
        return require_module(module, package, "the TFLite host runner")
    for module, _ in (INTERPRETERS["litert"], INTERPRETERS["tflite-runtime"]):
        try:
            return importlib.import_module(module)
        except ImportError:
            continue
    return require_module("ai_edge_litert.interpreter", "ai-edge-litert (or tflite-runtime)",
                          "the TFLite host runner")


class HostRunner(Runner):
    """LiteRT on the host CPU."""

    name = "host"
    targets = ("tflite",)

    def __init__(self, threads: int = 1, delegate: str = "xnnpack", interpreter: str = "auto",
                 **_ignored) -> None:
        self.threads = int(threads)
        if self.threads < 1:
            raise UsageError(f"threads must be >= 1, got {threads}")
        if delegate not in DELEGATES and not Path(str(delegate)).is_file():
            raise UsageError(f"delegate '{delegate}' is not one of {', '.join(DELEGATES)} nor an "
                             "existing delegate library path")
        self.delegate = delegate
        if interpreter not in INTERPRETERS:
            raise UsageError(f"interpreter '{interpreter}' is not one of {', '.join(INTERPRETERS)}")
        self.interpreter_choice = interpreter

    # -- loading -----------------------------------------------------------------
    def interpreter(self, model: bytes | str | Path):
        """A LiteRT Interpreter for ``model`` (bytes or path), tensors allocated."""
        litert = interpreter_module(self.interpreter_choice)
        kw: dict = {"num_threads": self.threads}
        if self.delegate == "reference":
            kw["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_REF
        elif self.delegate == "builtin":
            kw["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        elif self.delegate != "xnnpack":
            kw["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            kw["experimental_delegates"] = [litert.load_delegate(str(self.delegate))]
        src = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else \
            {"model_path": str(model)}
        try:
            with _runtime_log_silenced():
                interp = litert.Interpreter(**src, **kw)
                interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            where = "the model" if isinstance(model, (bytes, bytearray)) else str(model)
            raise DeviceError(f"{where}: {litert.__name__.split('.')[0]} could not load the model: "
                              f"{str(exc).strip()}") from exc
        return interp

    @staticmethod
    def _model_path(artifact: Artifact) -> Path:
        """The artifact's .tflite, read back and verified (``TFLiteTarget.read_artifact``)
        before LiteRT, whose C++ loader must never see a corrupt file."""
        from edgeq_tflite.target import TFLiteTarget

        path = artifact.file(artifact.manifest.get("model_file", "model.tflite"))
        if not path.is_file():
            raise UsageError(f"{path}: missing; rebuild the artifact with 'edgeq build'")
        TFLiteTarget().read_artifact(artifact)
        return path

    # -- I/O conversion ------------------------------------------------------------
    @staticmethod
    def _to_model(spec: dict, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value)
        src = tuple(spec.get("source_shape") or spec["shape"])
        if tuple(value.shape) != src:
            raise UsageError(f"input '{spec['name']}': got shape {tuple(value.shape)}, the model "
                             f"expects {src}")
        layout = spec.get("layout")
        if layout and layout != _source_letters(len(src)):
            value = np.transpose(value, [_source_letters(len(src)).index(c) for c in layout])
        dtype = np.dtype(spec["dtype"])
        if spec.get("quant") and dtype.kind in "iu" and value.dtype.kind == "f":
            # the rounding of TFLite's QUANTIZE (float32 division, half away from zero),
            # so integer I/O gives what the same model with float I/O would compute
            from edgeq.sdk import float_to_int

            q = QuantParams.from_json(spec["quant"])
            shape = q.broadcast_shape(value.ndim)
            value = float_to_int(value, q.scale.reshape(shape), q.zero_point.reshape(shape), dtype)
        return np.ascontiguousarray(value.astype(dtype, copy=False))

    @staticmethod
    def _from_model(spec: dict, value: np.ndarray) -> np.ndarray:
        if spec.get("quant") and value.dtype.kind in "iu":
            value = QuantParams.from_json(spec["quant"]).dequantize(value)
        layout = spec.get("layout")
        if layout and layout != _source_letters(value.ndim):
            value = np.transpose(value, [layout.index(c) for c in _source_letters(value.ndim)])
        return np.asarray(value)

    def _set(self, interp, manifest: dict, feeds: Mapping[str, np.ndarray]) -> None:
        details = {d["name"]: d for d in interp.get_input_details()}
        for spec in manifest["inputs"]:
            if spec["name"] not in feeds:
                raise UsageError(f"missing input '{spec['name']}'; the model's inputs are "
                                 f"{[s['name'] for s in manifest['inputs']]}")
            interp.set_tensor(details[spec["name"]]["index"], self._to_model(spec, feeds[spec["name"]]))

    def _get(self, interp, manifest: dict) -> dict[str, np.ndarray]:
        details = {d["name"]: d for d in interp.get_output_details()}
        return {spec["name"]: self._from_model(spec, interp.get_tensor(details[spec["name"]]["index"]))
                for spec in manifest["outputs"]}

    # -- Runner API ----------------------------------------------------------------
    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        interp = self.interpreter(self._model_path(artifact))
        self._set(interp, artifact.manifest, feeds)
        interp.invoke()
        return self._get(interp, artifact.manifest)

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 50, warmup: int = 5, references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        path = self._model_path(artifact)
        with _Memory() as mem:
            t0 = time.perf_counter()
            interp = self.interpreter(path)
            load_ms = (time.perf_counter() - t0) * 1e3
            outputs = []
            for feed in feeds:
                self._set(interp, artifact.manifest, feed)
                interp.invoke()
                outputs.append(self._get(interp, artifact.manifest))
            self._set(interp, artifact.manifest, feeds[0])
            for _ in range(warmup):
                interp.invoke()
            samples, cpu = [], []
            for _ in range(runs):
                t, c = time.perf_counter(), time.thread_time()
                interp.invoke()
                cpu.append((time.thread_time() - c) * 1e3)
                samples.append((time.perf_counter() - t) * 1e3)
        from edgeq.sdk import HostTransport

        facts = HostTransport().facts()
        report = ProfileReport(
            target="tflite", runner=self.name,
            latency=LatencyStats.from_samples(samples, load_ms=load_ms),
            peak_memory_mb=mem.peak_mb,
            device={"kind": "host", "serial": facts.serial, "soc": facts.soc, "abi": facts.abi,
                    "os_version": facts.os_version, "threads": self.threads, "delegate": self.delegate,
                    "interpreter": interp.__class__.__module__.split(".")[0]},
            artifact={"path": str(artifact.path), "model_file": path.name,
                      "bytes": path.stat().st_size},
            outputs=outputs,
            extra={"warmup": warmup},
        )
        if self.threads == 1:
            # one thread: LiteRT computes in the calling thread, whose CPU time leaves out
            # the waits for a core that a loaded host adds (paired speed-ups use it)
            report.extra["cpu_samples_ms"] = cpu
        if references is not None:
            from edgeq.sdk import attach_accuracy

            attach_accuracy(report, references)
        logger.info("host tflite: p50 %.3f ms over %d runs (load %.1f ms)", report.latency.p50_ms,
                    runs, load_ms)
        return report


@contextlib.contextmanager
def _runtime_log_silenced():
    """LiteRT's C++ logger prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
    on stderr for every interpreter, and has no switch the Python API reaches (its
    minimum severity is a C++ static). Unless edgeq logs at INFO (``-v``), fd 2 points to
    /dev/null while the interpreter is made; its errors still arrive as the exception's
    message."""
    if logging.getLogger("edgeq").isEnabledFor(logging.INFO):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. captured in-process): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
