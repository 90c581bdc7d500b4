"""The part every sample app's ``prepare.py`` shares: read the app's ``edgeq.yaml``, then
with edgeq's Python API load the model, calibrate and quantize once, compare with FP32,
build every target of the config whose SDK is installed (the others are named with the
package that would enable them) from that one calibration, and profile each artifact on
this machine with the gates and evaluation samples that apply to it (its own ``targets``
entry's, else the ``profile`` section's).

It is ordinary application code: it uses only ``edgeq``'s public API.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import edgeq
from edgeq import zoo
from edgeq.config import load_config
from edgeq.errors import GateFailure
from edgeq.targets import list_targets

#: evaluation samples edgeq.compare runs in the integer simulator
COMPARE_SAMPLES = 16


@dataclass
class Prepared:
    """What ``prepare`` made: the float model, the quantized model, the artifacts and
    their profile results (with gates), the evaluation data of each target, and the
    targets skipped."""

    config: Any
    model: Any
    qmodel: Any
    evals: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    def outputs(self, target: str) -> list[dict]:
        """The ``target`` artifact's outputs for every sample of ``evals[target]``, as its
        profile run on this machine computed them."""
        return self.results[target].outputs


def arguments(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=None, help="output root (default: the config's output)")
    parser.add_argument("--eval-samples", type=int, default=None,
                        help="at most this many evaluation samples per target (default: what "
                             "edgeq.yaml says, else the whole eval split)")
    return parser.parse_args(argv)


def _timing(result) -> str:
    """The latency line of one profile run, saying what measured it."""
    device = result.device or {}
    executor = device.get("backend") or device.get("executor")
    if result.latency is None:
        return f"no latency: the '{result.runner}' runner here is a verifier ({executor}), not the device's runtime"
    if device.get("backend"):  # an emulator of the device's processor
        return f"p50 {result.latency.p50_ms:.2f} ms on {executor}: the emulator's time on this host, not a device's"
    return f"p50 {result.latency.p50_ms:.2f} ms on this host's CPU"


def _shown(result) -> str:
    """The accuracy metrics the target's gates read, as measured."""
    shown: dict[str, float | None] = {}
    for g in (r.gate for r in result.gates):
        if g.output is not None:
            shown.setdefault(f"{g.metric}[{g.output}]", result.accuracy["outputs"][g.output].get(g.metric))
        elif g.metric in result.accuracy:
            shown.setdefault(g.metric, result.accuracy[g.metric])
    return ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if v is not None)


def prepare(app_dir: Path, args: argparse.Namespace) -> Prepared:
    cfg = load_config(app_dir / "edgeq.yaml")
    name = cfg.model.zoo
    model = edgeq.load(zoo.get(name))
    calib = zoo.dataset(name, "calib", n=cfg.calibration.num_samples)
    print(f"{name}: calibrating once on {len(calib)} samples for {', '.join(t.name for t in cfg.targets)}")

    qm = edgeq.quantize(model, calib, progress=False, **cfg.quantize_options())
    # the integer simulator is a reference, not a fast runtime: a few samples show the
    # quantization's accuracy; the artifacts are measured on more of them below
    compared = edgeq.compare(model, qm, zoo.dataset(name, "eval", n=COMPARE_SAMPLES), per_layer=False)
    for output, metrics in compared.outputs.items():
        shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
        print(f"  simulator vs FP32 on {compared.samples} samples, {output}: {shown}")

    available = {row.name: row for row in list_targets()}
    targets, skipped = [], {}
    for entry in cfg.targets:
        row = available.get(entry.name)
        if row is None or not row.available:
            need = " ".join(row.sdk_packages) if row is not None and row.sdk_packages else "its plugin"
            skipped[entry.name] = f"not installed here (pip install {need})"
        else:
            targets.append(entry.name)
    out = Path(args.out) if args.out else cfg.output
    # one calibration for every target: a target whose constraints the quantized model
    # does not meet (QNN's per-tensor FullyConnected weights) is requantized from the
    # same statistics
    arts = edgeq.build(qm, targets=targets, calibration=calib, output_dir=out, progress=False)
    prepared = Prepared(cfg, model, qm, artifacts=arts, skipped=skipped)
    for target, art in arts.items():
        settings = cfg.profile_for(target)  # the target's own gates and samples, if it has them
        counts = [n for n in (settings.num_samples, args.eval_samples) if n]
        evals = prepared.evals[target] = zoo.dataset(name, "eval", n=min(counts) if counts else None)
        try:
            result = edgeq.profile(art.path, data=evals, runs=settings.runs, warmup=settings.warmup,
                                   gates=settings.gates, progress=False)
        except GateFailure as exc:
            result = exc.report
        prepared.results[target] = result
        size = result.artifact.get("size_mb") or (result.artifact.get("bytes") or 0) / 1e6
        print(f"  {target}: {art.path}, {size:.2f} MB, on {len(evals)} evaluation samples: "
              f"{_shown(result)}\n    {_timing(result)}")
        for gate in result.gates:
            print(f"    gate {gate.message}")
    for target, why in skipped.items():
        print(f"  {target}: skipped, {why}")
    return prepared
