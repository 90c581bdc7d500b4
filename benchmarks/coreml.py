"""Benchmark: edgeq's Core ML target (``ane``, W8A8) on the zoo models, in one run.

    .venv/bin/python benchmarks/coreml.py [--models mobilenet-v2 ...] [--calib 64] [--eval 16]
                                          [--json out.json]

For each zoo model, all numbers measured in this run:

* build: ``edgeq.build`` of ``tflite`` and ``ane`` together from one calibration (cold
  statistics cache), against the two targets built separately (each with a cold cache,
  so each calibrates); wall-clock seconds, the minimum of ``--repeats`` interleaved runs;
  the ane build's own phases (quantize, calibration, check, emit) from its build report;
* size: the saved ``.mlpackage`` (all its files) against the FP32 ONNX, with the int8
  weight file and the program text apart; the ``.tflite`` from the same calibration;
* accuracy on ``--eval`` evaluation feeds (never calibration data) against the FP32
  ONNX model, ``edgeq.profile.accuracy.compare_outputs`` (SQNR, cosine, top-1 agreement,
  MAE): the ``.mlpackage`` re-interpreted from the saved file in numpy
  (edgeq_coreml.verify), side by side with the ``.tflite`` from the same calibration
  (LiteRT, XNNPACK) and edgeq's integer simulator; max |artifact - simulator|;
* baseline: coremltools' own weight-only int8
  (``ct.optimize.coreml.linear_quantize_weights``, per-channel symmetric) applied to the
  fp16 Core ML build of the same network (``coreml-fp16``), re-interpreted the same way
  (coremltools cannot calibrate activations on Linux, so this is what it offers here).

Core ML cannot run on Linux: no latency here (the mac runner measures it on a Mac).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _pkg_bytes(pkg: Path) -> dict:
    files = {f.relative_to(pkg).as_posix(): f.stat().st_size for f in pkg.rglob("*") if f.is_file()}
    weights = sum(v for k, v in files.items() if k.endswith("weight.bin"))
    spec = sum(v for k, v in files.items() if k.endswith("model.mlmodel"))
    return {"total": sum(files.values()), "weights": weights, "program": spec}


def _interpret(pkg: Path, manifest: dict, feeds: list[dict]) -> list[dict]:
    from edgeq_coreml.runners._io import from_model, to_model
    from edgeq_coreml.verify import load_program, run_program

    prog = load_program(pkg)
    return [from_model(manifest, run_program(prog, to_model(manifest, f))) for f in feeds]


def _metrics(outs, refs) -> dict:
    from edgeq.profile.accuracy import compare_outputs

    m = compare_outputs(outs, refs)
    keep = ("sqnr_db", "cosine_mean", "cosine_min", "top1_agreement", "max_abs_error")
    return {k: m.get(k) for k in keep}


def _cold(fn, tmp: Path, tag: str):
    """Run ``fn(cache_dir)`` with an empty statistics cache; return (result, seconds)."""
    cache = tmp / f"cache-{tag}"
    cache.mkdir(parents=True)
    t = time.perf_counter()
    out = fn(str(cache))
    return out, time.perf_counter() - t


def _baseline(model_path: Path, calib_name: str, tmp: Path, evals: list[dict]) -> dict:
    """coremltools.optimize weight-only int8 on the coreml-fp16 build of the model."""
    import coremltools as ct
    import edgeq

    arts = edgeq.build(str(model_path), targets=["coreml-fp16"], output_dir=tmp / "fp16", layer_sqnr_samples=0)
    art = arts["coreml-fp16"]
    pkg = art.path / "model.mlpackage"
    t = time.perf_counter()
    mlmodel = ct.models.MLModel(str(pkg), skip_model_load=True)
    config = ct.optimize.coreml.OptimizationConfig(global_config=ct.optimize.coreml.OpLinearQuantizerConfig(
        mode="linear_symmetric", dtype="int8", granularity="per_channel"))
    q = ct.optimize.coreml.linear_quantize_weights(mlmodel, config=config)
    out = tmp / "ct_w8.mlpackage"
    q.save(str(out))
    seconds = time.perf_counter() - t
    return {"pkg": out, "manifest": art.manifest, "seconds": seconds,
            "fp16_pkg": pkg, "fp16_manifest": art.manifest}


def bench_model(name: str, n_calib: int, n_eval: int, tmp: Path, repeats: int = 2) -> dict:
    import edgeq
    import edgeq.zoo as zoo

    from edgeq_coreml.target import CoreMLTarget
    from edgeq_tflite.runners.host import HostRunner as TFLiteHost
    from edgeq.sdk import Artifact

    res: dict = {"model": name}
    onnx_path = zoo.get(name)
    calib = zoo.feeds(name, split="calib", n=n_calib)
    evals = zoo.feeds(name, split="eval", n=n_eval)
    model = edgeq.load(onnx_path)
    refs = [model.run(f) for f in evals]

    def build(targets, out, cache):
        return edgeq.build(model, targets=targets, calibration=calib, output_dir=out, cache_dir=cache,
                           progress=False, layer_sqnr_samples=0)

    # interleaved repeats, the minimum of each: the machine is shared, and a build that
    # happens to overlap someone else's job says nothing about the build
    t_both = t_tfl = t_ane = float("inf")
    for i in range(repeats):
        arts, t = _cold(lambda c: build(["tflite", "ane"], tmp / f"both{i}", c), tmp, f"{name}-both{i}")
        t_both = min(t_both, t)
        _, t = _cold(lambda c: build(["tflite"], tmp / f"tfl{i}", c), tmp, f"{name}-tfl{i}")
        t_tfl = min(t_tfl, t)
        _, t = _cold(lambda c: build(["ane"], tmp / f"ane{i}", c), tmp, f"{name}-ane{i}")
        t_ane = min(t_ane, t)
    res["build_timings_s"] = {k: v for k, v in json.loads((arts["ane"].path / "build_report.json")
                                                          .read_text())["timings_s"].items()}
    res["build_s"] = {"tflite+ane_one_calibration": t_both, "tflite_alone": t_tfl, "ane_alone": t_ane,
                      "two_separate_builds": t_tfl + t_ane}
    onnx_bytes = onnx_path.stat().st_size
    ane = arts["ane"]
    pkg = ane.path / "model.mlpackage"
    sizes = _pkg_bytes(pkg)
    tfl_bytes = (arts["tflite"].path / "model.tflite").stat().st_size
    res["size"] = {"onnx_fp32": onnx_bytes, "mlpackage": sizes, "mlpackage_over_onnx": sizes["total"] / onnx_bytes,
                   "weights_over_onnx": sizes["weights"] / onnx_bytes, "tflite_over_onnx": tfl_bytes / onnx_bytes}
    # the simulator of the ane build's own quantization (statistics from the warm cache)
    qm = edgeq.quantize(model, calib, spec=CoreMLTarget().spec, cache_dir=str(tmp / f"cache-{name}-both0"))
    sim = [qm.run(f) for f in evals]
    t = time.perf_counter()
    cm = _interpret(pkg, ane.manifest, evals)
    res["interpret_s_per_sample"] = (time.perf_counter() - t) / len(evals)
    tfl = TFLiteHost().profile(Artifact.load(arts["tflite"].path), evals, runs=1, warmup=0).outputs
    res["accuracy_vs_fp32"] = {"ane (re-interpreted .mlpackage)": _metrics(cm, refs),
                               "ane simulator": _metrics(sim, refs),
                               "tflite (LiteRT, same calibration)": _metrics(tfl, refs)}
    res["max_abs_vs_simulator"] = max(float(np.abs(a[k] - b[k]).max()) for a, b in zip(cm, sim) for k in b)
    res["ane_preflight"] = ane.manifest["ane_preflight"]["counts"]
    base = _baseline(onnx_path, name, tmp / "baseline", evals)
    ct_sizes = _pkg_bytes(base["pkg"])
    ct_out = _interpret(base["pkg"], base["manifest"], evals)
    res["baseline_coremltools_w8"] = {"size_over_onnx": ct_sizes["total"] / onnx_bytes,
                                      "seconds": base["seconds"], "accuracy_vs_fp32": _metrics(ct_out, refs)}
    return res


def _print(results: list[dict]) -> None:
    def f(v, p=3):
        return "-" if v is None else (f"{v:.{p}f}" if isinstance(v, float) else str(v))

    print("\n## Size and build time (wall-clock s; cold statistics cache for every build)\n")
    print("| model | .mlpackage / ONNX | weights / ONNX | program KB | .tflite / ONNX | coremltools W8 / ONNX "
          "| tflite+ane one calibration | tflite alone + ane alone |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        s, b = r["size"], r["build_s"]
        print(f"| {r['model']} | {f(s['mlpackage_over_onnx'])} | {f(s['weights_over_onnx'])} | "
              f"{s['mlpackage']['program'] / 1e3:.0f} | {f(s['tflite_over_onnx'])} | "
              f"{f(r['baseline_coremltools_w8']['size_over_onnx'])} | {f(b['tflite+ane_one_calibration'], 1)} | "
              f"{f(b['tflite_alone'], 1)} + {f(b['ane_alone'], 1)} = {f(b['two_separate_builds'], 1)} |")
    print("\n## Phases of the ane build in the combined run (s, from build_report.json)\n")
    for r in results:
        print(f"- {r['model']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["build_timings_s"].items()
                                               if isinstance(v, (int, float))))
    print("\n## Accuracy against FP32 on the evaluation split (SQNR dB / cosine mean / top-1 agreement)\n")
    print("| model | ane .mlpackage (re-interpreted) | ane simulator | tflite (same calibration) "
          "| coremltools weight-only int8 | max abs ane vs simulator |")
    print("|---|---|---|---|---|---|")
    for r in results:
        a = r["accuracy_vs_fp32"]

        def cell(m):
            return f"{f(m['sqnr_db'], 1)} / {f(m['cosine_mean'], 4)} / {f(m['top1_agreement'])}"

        print(f"| {r['model']} | {cell(a['ane (re-interpreted .mlpackage)'])} | {cell(a['ane simulator'])} | "
              f"{cell(a['tflite (LiteRT, same calibration)'])} | "
              f"{cell(r['baseline_coremltools_w8']['accuracy_vs_fp32'])} | {f(r['max_abs_vs_simulator'], 4)} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=["mobilenet-v2", "ppocr-cls", "minilm-l6", "silero-vad"])
    ap.add_argument("--calib", type=int, default=64)
    ap.add_argument("--eval", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2, help="timed builds of each kind (minimum kept)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    import logging

    logging.getLogger("coremltools").setLevel(logging.ERROR)
    results = []
    with tempfile.TemporaryDirectory(prefix="edgeq-bench-coreml-") as tmp:
        for name in args.models:
            print(f"... {name}", file=sys.stderr, flush=True)
            results.append(bench_model(name, args.calib, args.eval, Path(tmp) / name, args.repeats))
    _print(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
