"""The host runner (``--runner host``) of the Core ML target: the saved ``.mlpackage``
interpreted op by op in numpy (edgeq_coreml.verify) on any OS.

Contract:

* ``HostRunner()``; ``run(artifact, feeds)`` takes float feeds keyed by the IR input
  names (NCHW, as in ONNX), returns float outputs by IR output name.
* ``profile(artifact, feeds, runs=..., warmup=..., references=None)``: the outputs for
  every feed and accuracy against ``references`` (FP32 outputs per feed) with
  ``edgeq.sdk.attach_accuracy``. Latency is that of the numpy interpreter, which says
  nothing about a device: it is reported under ``extra["interpreter_ms"]``, and
  ``latency`` stays empty so no gate reads it as a device number.
"""

from __future__ import annotations

import logging
import time
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import Artifact, ProfileReport, Runner, UsageError

from edgeq_coreml.runners._io import from_model, model_path, to_model

logger = logging.getLogger(__name__)


class HostRunner(Runner):
    """numpy interpretation of the saved ML Program (accuracy on Linux, no latency)."""

    name = "host"
    targets = ("ane",)

    def __init__(self, **_ignored) -> None:
        self._cache: dict[str, object] = {}

    def _program(self, artifact: Artifact):
        from edgeq_coreml.verify import load_program

        from edgeq_coreml.target import CoreMLTarget

        path = model_path(artifact)
        # keyed by the files' hashes too: an artifact rebuilt (or altered) in place is
        # read and checked again, never served from a program loaded from other bytes
        files = artifact.manifest.get("files")
        key = str(path) + repr(sorted((str(k), str(v)) for k, v in files.items())
                               if isinstance(files, dict) else files)
        if key not in self._cache:
            # coremltools' native package and blob readers see only a package read back
            # and checked in Python first (verify/package.py)
            CoreMLTarget().read_artifact(artifact)
            self._cache[key] = load_program(path)
        return self._cache[key]

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        from edgeq_coreml.verify import run_program

        prog = self._program(artifact)
        return from_model(artifact.manifest, run_program(prog, to_model(artifact.manifest, feeds)))

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 1, warmup: int = 0,
                references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        if not feeds:
            raise UsageError("profile needs at least one input sample")
        t0 = time.perf_counter()
        self._program(artifact)
        load_ms = (time.perf_counter() - t0) * 1e3
        outputs, times = [], []
        for feed in feeds:
            t = time.perf_counter()
            outputs.append(self.run(artifact, feed))
            times.append((time.perf_counter() - t) * 1e3)
        path = model_path(artifact)
        report = ProfileReport(
            target="ane", runner=self.name, latency=None,
            device={"kind": "host", "executor": "edgeq numpy interpreter of the ML Program"},
            artifact={"path": str(artifact.path), "model_file": path.name,
                      "bytes": sum(f.stat().st_size for f in path.rglob("*") if f.is_file())},
            outputs=outputs,
            extra={"interpreter_ms": {"load": round(load_ms, 3),
                                      "mean_per_sample": round(float(np.mean(times)), 3)},
                   "note": "accuracy of the saved program on this machine; latency needs the mac runner",
                   "ane_preflight": artifact.manifest.get("ane_preflight", {}).get("counts", {})},
        )
        if references is not None:
            from edgeq.sdk import attach_accuracy

            attach_accuracy(report, references)
        return report
