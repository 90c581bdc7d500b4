"""The macOS runner (``--runner mac``): Core ML itself, through coremltools.

Contract:

* ``MacRunner(compute_units=None, delegate=None)``: ``CPU_AND_NE``, ``ALL``, ``CPU_ONLY``
  or ``CPU_AND_GPU`` (``coremltools.ComputeUnit``), from ``compute_units`` or the CLI's
  ``--delegate``; when neither is given, the artifact's profile decides
  (``options.extra.compute_units``, recorded in the manifest). Anything else is a
  UsageError.
* ``run(artifact, feeds)`` / ``profile(artifact, feeds, runs=50, warmup=5,
  references=None)`` like every runner: load time, ``warmup`` untimed then ``runs``
  timed ``MLModel.predict`` calls on the first feed, outputs for every feed, accuracy
  against ``references`` via ``edgeq.sdk.attach_accuracy``, and the op placement from
  ``MLComputePlan`` (macOS 14.4+) in ``op_profile`` when coremltools offers it.
* On any other OS (or without Core ML's native library) ``run``/``profile`` raise
  ``TargetUnavailableError`` saying so; argument checks run everywhere.
"""

from __future__ import annotations

import logging
import platform
import time
from typing import Mapping, Sequence

import numpy as np

from edgeq.sdk import (Artifact, LatencyStats, ProfileReport, Runner, TargetUnavailableError,
                       UsageError, require_module)

from edgeq_coreml.runners._io import from_model, model_path, to_model

logger = logging.getLogger(__name__)

COMPUTE_UNITS = ("CPU_AND_NE", "ALL", "CPU_ONLY", "CPU_AND_GPU")


def require_macos(system: str | None = None, runner: str = "mac") -> None:
    system = system or platform.system()
    if system != "Darwin":
        where = "Core ML, which exists only on macOS" if runner == "mac" else \
            "Core ML on an iPhone through Xcode's devicectl, which exists only on macOS"
        raise TargetUnavailableError(
            f"the '{runner}' runner runs {where} (this is {system}); run 'edgeq profile ARTIFACT "
            f"--runner {runner}' on a Mac, or '--runner host' here for the artifact's accuracy "
            "from its numpy interpretation")


def chosen_units(compute_units: str | None, delegate: str | None, runner: str) -> str | None:
    """The compute units a runner was given (``compute_units`` or the CLI's ``--delegate``),
    upper-cased, or None; anything but COMPUTE_UNITS is a UsageError."""
    chosen = compute_units or delegate
    if chosen is not None and str(chosen).upper() not in COMPUTE_UNITS:
        raise UsageError(f"compute units '{chosen}' are not one of {', '.join(COMPUTE_UNITS)} "
                         f"(edgeq profile --runner {runner} --delegate UNITS)")
    return None if chosen is None else str(chosen).upper()


def units_for(artifact: Artifact, chosen: str | None) -> str:
    """``chosen``, else the artifact's profile (manifest ``coreml.compute_units``), else
    CPU_AND_NE."""
    units = chosen or artifact.manifest.get("coreml", {}).get("compute_units") or "CPU_AND_NE"
    if units not in COMPUTE_UNITS:
        raise UsageError(f"{artifact.path}: manifest compute_units '{units}' is not one of "
                         f"{', '.join(COMPUTE_UNITS)}")
    return units


def placement_rows(plan_ops) -> list[dict]:
    """``op_profile`` rows from (op name, op type, preferred device, supported devices,
    estimated cost) tuples, as read from MLComputePlan; the report's format."""
    rows = []
    for name, op_type, preferred, supported, cost in plan_ops:
        rows.append({"op": name, "op_type": op_type, "device": preferred,
                     "supported": sorted(supported), "cost": None if cost is None else float(cost)})
    return rows


def assemble_report(artifact: Artifact, *, compute_units: str, samples_ms: Sequence[float],
                    load_ms: float, outputs: list[dict], placement: list[dict] | None,
                    references=None, device: dict | None = None, warmup: int = 0,
                    runner: str = "mac") -> ProfileReport:
    """The ProfileReport of a mac (or iphone) run from what was measured (also used on
    recorded runs)."""
    counts: dict[str, int] = {}
    for row in placement or []:
        counts[row["device"]] = counts.get(row["device"], 0) + 1
    report = ProfileReport(
        target="ane", runner=runner,
        latency=LatencyStats.from_samples(samples_ms, load_ms=load_ms),
        device={"kind": runner, "compute_units": compute_units, **(device or {})},
        artifact={"path": str(artifact.path), "model_file": artifact.manifest.get("model_file")},
        op_profile=list(placement or []), outputs=outputs,
        extra={"warmup": warmup, "placement_counts": counts,
               "ane_preflight": artifact.manifest.get("ane_preflight", {}).get("counts", {})})
    if references is not None:
        from edgeq.sdk import attach_accuracy

        attach_accuracy(report, references)
    return report


class MacRunner(Runner):
    name = "mac"
    targets = ("ane",)

    def __init__(self, compute_units: str | None = None, delegate: str | None = None, **_ignored) -> None:
        # ``--delegate`` of `edgeq profile` names the compute units for this runner; without
        # either, the artifact's profile decides (manifest coreml.compute_units)
        self.compute_units = chosen_units(compute_units, delegate, self.name)

    def units_for(self, artifact: Artifact) -> str:
        return units_for(artifact, self.compute_units)

    def _load(self, artifact: Artifact):
        require_macos()
        ct = require_module("coremltools", "coremltools", "the mac runner")
        path = model_path(artifact)
        from edgeq_coreml.target import CoreMLTarget

        CoreMLTarget().read_artifact(artifact)  # checked in Python before Core ML loads it
        try:
            return ct.models.MLModel(str(path), compute_units=getattr(ct.ComputeUnit, self.units_for(artifact)))
        except Exception as exc:
            raise TargetUnavailableError(f"{path}: Core ML could not load the model: {exc}") from exc

    def run(self, artifact: Artifact, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        model = self._load(artifact)
        return from_model(artifact.manifest, model.predict(to_model(artifact.manifest, feeds)))

    def profile(self, artifact: Artifact, feeds: Sequence[Mapping[str, np.ndarray]], *,
                runs: int = 50, warmup: int = 5,
                references: Sequence[Mapping[str, np.ndarray]] | None = None,
                **options) -> ProfileReport:
        t0 = time.perf_counter()
        model = self._load(artifact)
        load_ms = (time.perf_counter() - t0) * 1e3
        outputs = [from_model(artifact.manifest, model.predict(to_model(artifact.manifest, f)))
                   for f in feeds]
        first = to_model(artifact.manifest, feeds[0])
        for _ in range(warmup):
            model.predict(first)
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            model.predict(first)
            samples.append((time.perf_counter() - t) * 1e3)
        return assemble_report(artifact, compute_units=self.units_for(artifact), samples_ms=samples,
                               load_ms=load_ms, outputs=outputs, placement=self._placement(artifact),
                               references=references, warmup=warmup,
                               device={"os_version": platform.mac_ver()[0], "machine": platform.machine()})

    def _placement(self, artifact: Artifact) -> list[dict] | None:
        """Per-op device from ``MLComputePlan`` (coremltools >= 8, macOS 14.4+), or None."""
        try:
            import coremltools as ct
            from coremltools.models.compute_plan import MLComputePlan

            compiled = ct.utils.compile_model(str(model_path(artifact)))
            plan = MLComputePlan.load_from_path(path=compiled,
                                                compute_units=getattr(ct.ComputeUnit, self.units_for(artifact)))
        except Exception as exc:  # older macOS / coremltools: no plan, not an error
            logger.info("MLComputePlan unavailable: %s", exc)
            return None
        program = plan.model_structure.program
        rows = []
        for fn in program.functions.values():
            for op in fn.block.operations:
                usage = plan.get_compute_device_usage_for_mlprogram_operation(op)
                cost = plan.get_estimated_cost_for_mlprogram_operation(op)
                if usage is None:
                    continue
                rows.append((op.outputs[0].name if op.outputs else op.operator_name, op.operator_name,
                             type(usage.preferred_compute_device).__name__,
                             [type(d).__name__ for d in usage.supported_compute_devices],
                             None if cost is None else cost.weight))
        return placement_rows(rows)
