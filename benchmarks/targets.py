"""Benchmark: the three targets' artifacts of the same model, side by side, from one
calibration, next to the FP32 ONNX model they came from.

    .venv/bin/python benchmarks/targets.py [--models mobilenet-v2,...] [--eval N] [--json FILE]

Per zoo model, in one run: calibrate once (the sample app's calibration sample count),
``edgeq.build`` for ``tflite``, ``ane`` and ``qnn-htp-v75`` (QNN is requantized from the
same statistics for its per-tensor FullyConnected weights), and ``edgeq.profile`` each
artifact with its ``host`` runner on the same ``--eval`` samples of the zoo's evaluation
split (never the calibration split). Printed per target:

* size: what the runner loads (the ``.tflite``; every file of the ``.mlpackage``; the
  EPContext model and its context binary) and, for QNN, the whole directory (with the QDQ
  model and encodings.json that the QNN SDK's converter takes);
* accuracy against the FP32 model (onnxruntime), the model's own metrics;
* host time: LiteRT's p50 on this CPU (1 thread, XNNPACK); for ``ane`` the numpy
  verifier's time per sample (not a latency: Core ML runs only on Apple hardware); for
  QNN the HTP emulator's p50 (an x86-64 simulation of the NPU, not a phone's latency);
* the baseline, measured in the same run: the FP32 ONNX file's size and onnxruntime's
  p50 on this CPU (1 thread).

For classifiers, the FP32 model's top-1/top-2 logit margin on the samples where an
artifact's top-1 differs from FP32's, against the median margin over all samples: the
disagreements are near ties, where a one-step difference in a logit flips the class.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: model -> (output scored, metrics printed, calibration samples of its sample app)
MODELS = {
    "mobilenet-v2": ("logits", ("top1_agreement", "sqnr_db"), 128),
    "silero-vad": ("speech_probs", ("mean_abs_error", "decision_agreement"), 64),
    "minilm-l6": ("sentence_embedding", ("cosine_mean", "cosine_min"), 128),
}
TARGETS = ("tflite", "ane", "qnn-htp-v75")
WHERE = {"tflite": ("Android / iOS / Linux CPUs (LiteRT, XNNPACK)", "host: LiteRT on this CPU"),
         "ane": ("Apple Neural Engine, A17 Pro / M4 (Core ML, iOS17)",
                 "host: numpy interpreter of the saved ML Program (a verifier)"),
         "qnn-htp-v75": ("Snapdragon 8 Gen 3 Hexagon NPU (QNN HTP v75)",
                         "host: onnxruntime-qnn's HTP emulator, CPU fallback off")}


def _fp32(onnx_path: Path, feeds: list[dict], runs: int) -> tuple[list[dict], float]:
    """FP32 outputs of every feed, and onnxruntime's p50 over ``runs`` runs of the first."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    refs = [dict(zip(names, sess.run(None, f))) for f in feeds]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feeds[0])
        times.append((time.perf_counter() - t) * 1e3)
    return refs, float(np.median(times))


def _margins(refs: list[dict], outs: list[dict], output: str) -> tuple[float, float, int]:
    """(median FP32 top-1/top-2 margin over all samples, over the disagreements, count)."""
    ref = np.stack([r[output].ravel() for r in refs])
    got = np.stack([o[output].ravel() for o in outs])
    top2 = np.sort(ref, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    flipped = np.argmax(ref, axis=1) != np.argmax(got, axis=1)
    return float(np.median(margin)), float(np.median(margin[flipped])) if flipped.any() else float("nan"), \
        int(flipped.sum())


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.name.startswith("report"))


def run_model(name: str, n_eval: int, out_root: Path) -> dict:
    import edgeq
    from edgeq import zoo

    output, keys, n_calib = MODELS[name]
    onnx_path = zoo.get(name)
    model = edgeq.load(onnx_path)
    calib = zoo.dataset(name, "calib", n=n_calib)
    evals = zoo.dataset(name, "eval", n=n_eval)
    feeds = list(evals)
    refs, fp32_ms = _fp32(onnx_path, feeds, runs=20)
    row = {"model": name, "eval_samples": len(feeds), "calib_samples": len(calib),
           "fp32": {"size_mb": onnx_path.stat().st_size / 1e6, "p50_ms": fp32_ms}, "targets": {}}
    t0 = time.perf_counter()
    qm = edgeq.quantize(model, calib, progress=False)
    arts = edgeq.build(qm, targets=list(TARGETS), calibration=calib, output_dir=out_root / name, progress=False)
    row["build_s"] = time.perf_counter() - t0
    for target, art in arts.items():
        t = time.perf_counter()
        res = edgeq.profile(art.path, data=evals, runs=5, warmup=1, progress=False)
        build = json.loads((art.path / "build_report.json").read_text())
        acc = res.accuracy["outputs"][output]
        entry = {"size_mb": res.artifact["bytes"] / 1e6, "dir_mb": _dir_bytes(art.path) / 1e6,
                 **{k: acc[k] for k in keys}, "sqnr_db": acc["sqnr_db"],
                 "p50_ms": res.latency.p50_ms if res.latency else None,
                 "verifier_ms": (res.extra.get("interpreter_ms") or {}).get("mean_per_sample"),
                 "origin": (build.get("quantization") or {}).get("origin"),
                 "profile_s": time.perf_counter() - t}
        if keys[0] == "top1_agreement":
            entry["margin_all"], entry["margin_flipped"], entry["flipped"] = _margins(refs, res.outputs, output)
        row["targets"][target] = entry
    return row


def _print(row: dict) -> None:
    output, keys, _ = MODELS[row["model"]]
    fp = row["fp32"]
    print(f"\n{row['model']}: {row['eval_samples']} evaluation samples, one calibration on "
          f"{row['calib_samples']} (quantize + build of the three targets {row['build_s']:.1f} s)")
    extra = () if "sqnr_db" in keys else ("sqnr_db",)  # the output's SQNR, for every model
    head = ["target", "size MB", "vs ONNX", *keys, *extra, "host ms", "what the host time is"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    dashes = " | ".join("–" for _ in (*keys, *extra))
    print(f"| FP32 ONNX | {fp['size_mb']:.2f} | 1.000 | {dashes} | {fp['p50_ms']:.2f} | onnxruntime p50, this CPU, 1 thread |")
    for target, e in row["targets"].items():
        if e["p50_ms"] is not None:
            ms = f"{e['p50_ms']:.2f}"
            what = "LiteRT p50, this CPU, 1 thread" if target == "tflite" else "HTP emulator p50 (not a device)"
        else:
            ms, what = f"({e['verifier_ms']:.0f})", "verifier per sample (no latency)"
        size = f"{e['size_mb']:.2f}" + (f" ({e['dir_mb']:.2f} dir)" if target.startswith("qnn") else "")
        print(f"| {target} | {size} | {e['size_mb'] / fp['size_mb']:.3f} | "
              + " | ".join(f"{e[k]:.2f}" if k == "sqnr_db" else f"{e[k]:.4f}" for k in (*keys, *extra)) + f" | {ms} | {what} |")
    for target, e in row["targets"].items():
        if "flipped" in e:
            print(f"  {target}: top-1 differs from FP32 on {e['flipped']} samples; FP32 top-1/top-2 margin "
                  f"there median {e['margin_flipped']:.3f}, over all samples {e['margin_all']:.3f}")
        if e["origin"]:
            print(f"  {target}: quantized model {e['origin']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--eval", type=int, default=48, help="evaluation samples per model")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print("where each target runs, and what checked it here:")
    for target, (where, runner) in WHERE.items():
        print(f"  {target}: {where}; {runner}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            rows.append(run_model(name, args.eval, Path(tmp)))
            _print(rows[-1])
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
