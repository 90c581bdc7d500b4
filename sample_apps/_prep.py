"""The part every sample app's ``prepare.py`` shares: read the app's ``edgeq.yaml``, then
with edgeq's Python API load the model, calibrate and quantize once, compare with FP32,
build every target of the config whose SDK is installed (the others are named with the
package that would enable them), and profile each artifact on this machine with the
config's gates.

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
    their profile results (with gates), the evaluation data, and the targets skipped."""

    config: Any
    model: Any
    qmodel: Any
    evals: Any
    artifacts: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    def outputs(self, target: str) -> list[dict]:
        """The ``target`` artifact's outputs for every evaluation sample, as its profile
        run on this machine computed them."""
        return self.results[target].outputs


def arguments(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=None, help="output root (default: the config's output)")
    parser.add_argument("--eval-samples", type=int, default=None,
                        help="evaluation samples (default: the whole eval split)")
    return parser.parse_args(argv)


def prepare(app_dir: Path, args: argparse.Namespace) -> Prepared:
    cfg = load_config(app_dir / "edgeq.yaml")
    name = cfg.model.zoo
    model = edgeq.load(zoo.get(name))
    calib = zoo.dataset(name, "calib", n=cfg.calibration.num_samples)
    evals = zoo.dataset(name, "eval", n=args.eval_samples)
    print(f"{name}: calibrating on {len(calib)} samples, evaluating on {len(evals)} others")

    qm = edgeq.quantize(model, calib, progress=False, **cfg.quantize_options())
    # the integer simulator is a reference, not a fast runtime: a few samples show the
    # quantization's accuracy; the artifacts are measured on all of them below
    compared = edgeq.compare(model, qm, evals, per_layer=False, max_samples=COMPARE_SAMPLES)
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
    arts = edgeq.build(qm, targets=targets, calibration=calib, output_dir=out, progress=False)
    prepared = Prepared(cfg, model, qm, evals, arts, skipped=skipped)
    for target, art in arts.items():
        try:
            result = edgeq.profile(art.path, data=evals, runs=cfg.profile.runs, warmup=cfg.profile.warmup,
                                   gates=cfg.profile.gates, progress=False)
        except GateFailure as exc:
            result = exc.report
        prepared.results[target] = result
        size = result.artifact.get("size_mb") or (result.artifact.get("bytes") or 0) / 1e6
        timing = (f"p50 {result.latency.p50_ms:.2f} ms on this host" if result.latency is not None
                  else f"latency not measured by its '{result.runner}' runner here")
        print(f"  {target}: {art.path}, {size:.2f} MB, {timing}")
        for gate in result.gates:
            print(f"    gate {gate.message}")
    for target, why in skipped.items():
        print(f"  {target}: skipped, {why}")
    return prepared
