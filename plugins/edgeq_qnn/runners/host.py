"""The host runner (``--runner host``): runs a QNN artifact on onnxruntime-qnn's HTP
backend on this machine (an x86-64 emulator of the Hexagon NPU), CPU fallback disabled.

Contract:

* ``HostRunner(threads=1, model="context")``: ``model`` is ``context`` (the EPContext
  model + context binary the build compiled: what a device loads) or ``qdq`` (the QDQ
  model, compiled at session creation).
* ``run(artifact, feeds)``: float feeds keyed by input name (the ONNX model's layout),
  float outputs keyed by output name.
* ``profile(artifact, feeds, runs=10, warmup=1, references=None)``: session creation time
  (load), outputs for every feed, ``warmup`` untimed then ``runs`` timed
  ``InferenceSession.run`` calls on the first feed, and accuracy against ``references``
  (:func:`edgeq.sdk.attach_accuracy`). ``extra["placement"]`` is QNN EP's op trace of the
  QDQ model: how many QNN ops, and every ONNX node QNN did not take, with the reason
  (empty when the whole graph is on HTP; the session itself refuses a graph with any).

Latency on the emulator is the x86-64 simulation's time, useful to compare builds on one
machine, not a device's; ``--runner adb`` measures a phone.
"""

from __future__ import annotations

import logging
import time
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import Artifact, LatencyStats, ProfileReport, Runner, UsageError

logger = logging.getLogger(__name__)

MODELS = ("context", "qdq")


class HostRunner(Runner):
    """onnxruntime-qnn's HTP emulator on the host CPU."""

    name = "host"
    targets = ("qnn",)

    def __init__(self, threads: int = 1, model: str = "context", **_ignored) -> None:
        self.threads = int(threads)
        if self.threads < 1:
            raise UsageError(f"threads must be >= 1, got {threads}")
        if model not in MODELS:
            raise UsageError(f"model '{model}' is not one of {', '.join(MODELS)}")
        self.model = model

    def model_path(self, artifact: Artifact):
        qnn = artifact.manifest.get("qnn", {})
        ctx = qnn.get("context")
        if self.model == "context" and ctx:
            name = ctx["model_file"]
        elif self.model == "context":
            raise UsageError(f"{artifact.path}: built without a context binary; run with model='qdq' "
                             "or rebuild with context_binary: true")
        else:
            name = qnn.get("qdq_model", "model.qdq.onnx")
        path = artifact.file(name)
        if not path.is_file():
            raise UsageError(f"{path}: missing; rebuild the artifact with 'edgeq build'")
        from edgeq_qnn.target import QnnTarget

        # onnxruntime and the QNN backend (native code) get only files read back and
        # checked first (emit/readback.py; the context binary by its sha256)
        QnnTarget().read_artifact(artifact)
        return path

    def loaded_bytes(self, artifact: Artifact, path) -> int:
        """Bytes of what the session loads: the EPContext model and its context binary, or
        the QDQ model. Not the directory: encodings.json and the QDQ model beside a context
        binary are inputs of the QNN SDK's converter, and reports land there too."""
        ctx = artifact.manifest.get("qnn", {}).get("context") or {}
        files = [path]
        if path.name == ctx.get("model_file") and ctx.get("binary_file"):
            files.append(artifact.file(ctx["binary_file"]))
        return sum(f.stat().st_size for f in files if f.is_file())

    def session(self, artifact: Artifact):
        from edgeq_qnn.runners.session import htp_session

        qnn = artifact.manifest.get("qnn", {})
        return htp_session(self.model_path(artifact), htp_arch=qnn.get("htp_arch"),
                           soc_model=qnn.get("soc_model"), threads=self.threads)

    @staticmethod
    def _feed(artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for spec in artifact.manifest["inputs"]:
            name = spec["name"]
            if name not in feeds:
                raise UsageError(f"missing input '{name}'; the model's inputs are "
                                 f"{[s['name'] for s in artifact.manifest['inputs']]}")
            v = np.asarray(feeds[name])
            if tuple(v.shape) != tuple(spec["shape"]):
                raise UsageError(f"input '{name}': got shape {tuple(v.shape)}, the model expects "
                                 f"{tuple(spec['shape'])}")
            out[name] = np.ascontiguousarray(v.astype(spec["dtype"], copy=False))
        return out

    @staticmethod
    def _outputs(session, values) -> dict[str, np.ndarray]:
        return {o.name: np.asarray(v) for o, v in zip(session.get_outputs(), values)}

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = self.session(artifact)
        return self._outputs(s, s.run(None, self._feed(artifact, feeds)))

    def placement(self, artifact: Artifact) -> dict:
        from edgeq_qnn.runners.session import op_trace

        self.model_path(artifact)  # reads and checks the artifact first
        qnn = artifact.manifest.get("qnn", {})
        return op_trace(artifact.file(qnn.get("qdq_model", "model.qdq.onnx")),
                        htp_arch=qnn.get("htp_arch"), soc_model=qnn.get("soc_model"))

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 10, warmup: int = 1,
                references: Sequence[Mapping[str, np.ndarray]] | None = None, **options) -> ProfileReport:
        placement = self.placement(artifact)
        t0 = time.perf_counter()
        s = self.session(artifact)
        load_ms = (time.perf_counter() - t0) * 1e3
        outputs = [self._outputs(s, s.run(None, self._feed(artifact, f))) for f in feeds]
        first = self._feed(artifact, feeds[0])
        for _ in range(warmup):
            s.run(None, first)
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            s.run(None, first)
            samples.append((time.perf_counter() - t) * 1e3)
        from edgeq.sdk import HostTransport

        facts = HostTransport().facts()
        qnn = artifact.manifest.get("qnn", {})
        path = self.model_path(artifact)
        report = ProfileReport(
            target="qnn", runner=self.name,
            latency=LatencyStats.from_samples(samples, load_ms=load_ms),
            peak_memory_mb=None,
            device={"kind": "host", "serial": facts.serial, "soc": facts.soc, "abi": facts.abi,
                    "os_version": facts.os_version, "threads": self.threads,
                    "backend": "onnxruntime-qnn HTP emulator", "htp_arch": qnn.get("htp_arch"),
                    "providers": s.get_providers()},
            artifact={"path": str(artifact.path), "model_file": path.name,
                      "bytes": self.loaded_bytes(artifact, path)},
            outputs=outputs,
            extra={"warmup": warmup, "placement": placement, "model": self.model},
        )
        if placement["unsupported"]:
            logger.warning("qnn: %d node(s) not on QNN: %s", len(placement["unsupported"]),
                           ", ".join(f"{u['node'] or '?'} ({u['op_type']}): {u['reason']}"
                                     for u in placement["unsupported"]))
        if references is not None:
            from edgeq.sdk import attach_accuracy

            attach_accuracy(report, references)
        logger.info("host qnn: p50 %.3f ms over %d runs (load %.1f ms)", report.latency.p50_ms, runs, load_ms)
        return report
