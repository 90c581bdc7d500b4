"""Benchmark: edgeq's QNN HTP target on the zoo models, next to onnxruntime's own QNN recipe.

    .venv/bin/python benchmarks/qnn.py [--models mobilenet-v2,...] [--eval N] [--arch 75] [--json FILE]

Per zoo model, in one run, on the zoo's *evaluation* split (never the calibration split):

* edgeq: ``edgeq.quantize`` with the QNN spec (64 calibration samples), the artifact
  (QDQ model, encodings, context binary for ``--arch``), run by the host runner on
  onnxruntime-qnn's HTP emulator from the context binary with the CPU fallback disabled;
  QNN EP's op trace says how many nodes did not go to QNN (0 is the goal).
  Scored against the FP32 model (top-1 agreement and logit SQNR for classifiers, cosine
  mean/min for embeddings, speech-probability MAE and decision agreement for VAD) and
  against edgeq's integer simulator (same metrics, the simulator as reference).
* onnxruntime's QNN recipe: ``get_qnn_qdq_config`` (its defaults: uint8 activations
  and weights) + ``quantize`` on the zoo ONNX with its input shapes fixed
  (``qnn_preprocess_model`` is skipped: onnxruntime 1.32's fails on the zoo models' metadata),
  and the same recipe with int8 symmetric per-channel weights (``weight_type=QInt8,
  per_channel=True``) on the same 64 calibration
  samples, run the same way on the HTP emulator (CPU fallback disabled; a failure is
  reported as the result).
* the context binary's compile time and size, and the emulator's time per sample
  (median over the evaluation samples; the x86-64 simulation, not a device).
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

MODELS = {
    "mobilenet-v2": ("logits", "classification"),
    "ppocr-cls": (None, "classification"),
    "minilm-l6": ("sentence_embedding", "embedding"),
    "silero-vad": ("speech_probs", "probability"),
}
CALIB = 64


def _metrics(refs, outs, output: str, task: str) -> dict:
    from edgeq.quantize.compare import _OutputAccumulator

    acc = _OutputAccumulator(output, task)
    for r, o in zip(refs, outs):
        acc.add(r[output], o[output])
    res = acc.result()
    keep = {"classification": ("top1_agreement", "sqnr_db"), "embedding": ("cosine_mean", "cosine_min"),
            "probability": ("mean_abs_error", "decision_agreement")}[task]
    return {k: round(float(res[k]), 4) for k in keep}


def _fixed_shape_model(path: Path, feed: dict, out: Path) -> Path:
    """The zoo ONNX with its inputs' dynamic dims fixed to the feed's (QNN needs static shapes)."""
    import onnx

    m = onnx.load(str(path))
    for inp in m.graph.input:
        if inp.name in feed:
            for d, n in zip(inp.type.tensor_type.shape.dim, feed[inp.name].shape):
                d.ClearField("dim_param")
                d.dim_value = int(n)
    m = onnx.shape_inference.infer_shapes(m)
    onnx.save(m, str(out))
    return out


def ort_qnn_recipe(path: Path, calib, evals, refs, output, task, arch: int, tmp: Path,
                   per_channel: bool = False) -> dict:
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

    from edgeq_qnn.runners.session import htp_session, op_trace

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            return next(self.it, None)

        def rewind(self):
            self.it = iter(calib)

    src = _fixed_shape_model(path, calib[0], tmp / "fixed.onnx")
    out = tmp / f"ort_qnn{'_pc' if per_channel else ''}.qdq.onnx"
    t0 = time.perf_counter()
    try:
        if per_channel:  # int8 symmetric per-channel weights, like edgeq's Conv weights
            cfg = get_qnn_qdq_config(str(src), Reader(), weight_type=QuantType.QInt8, per_channel=True)
        else:
            cfg = get_qnn_qdq_config(str(src), Reader())
        quantize(str(src), str(out), cfg)
    except Exception as exc:  # the baseline's own failure is a result
        return {"error": f"build: {type(exc).__name__}: {str(exc)[:160]}"}
    res = {"build_s": round(time.perf_counter() - t0, 2)}
    try:
        res["not_on_qnn"] = len(op_trace(out, htp_arch=arch)["unsupported"])
        sess = htp_session(out, htp_arch=arch)
        names = [o.name for o in sess.get_outputs()]
        outs = [dict(zip(names, sess.run(names, {k: v for k, v in f.items()}))) for f in evals]
        res.update(_metrics(refs, outs, output, task))
    except Exception as exc:
        res["error"] = f"run: {type(exc).__name__}: {str(exc)[:200]}"
    return res


def bench(name: str, n_eval: int, arch: int) -> dict:
    import edgeq
    import edgeq.zoo as zoo
    from edgeq.sdk import BuildOptions

    from edgeq_qnn.runners.host import HostRunner
    from edgeq_qnn.target import QnnTarget

    output, task = MODELS[name]
    path = zoo.get(name)
    model = edgeq.load(path)
    calib = list(zoo.feeds(name, split="calib", n=CALIB))
    evals = list(zoo.feeds(name, split="eval", n=n_eval))
    refs = [model.run(f) for f in evals]
    output = output or next(iter(refs[0]))
    row: dict = {"model": name, "eval": len(evals)}
    t0 = time.perf_counter()
    qm = edgeq.quantize(model, calib, spec=QnnTarget().spec)
    row["quantize_s"] = round(time.perf_counter() - t0, 2)
    sims = [qm.run(f) for f in evals]
    row["simulator"] = _metrics(refs, sims, output, task)
    tmp = Path(tempfile.mkdtemp(prefix=f"edgeq-qnn-{name}-"))
    try:
        (tmp / "art").mkdir()
        t0 = time.perf_counter()
        art = QnnTarget().emit(qm, tmp / "art", BuildOptions(extra={"htp_arch": arch}))
        row["emit_s"] = round(time.perf_counter() - t0, 2)
        ctx = art.manifest["qnn"]["context"]
        row["context"] = {"compile_s": art.timings["context_compile_s"], "bin_mb": round(ctx["binary_bytes"] / 1e6, 3)}
        runner = HostRunner()
        row["not_on_qnn"] = len(runner.placement(art)["unsupported"])
        sess = runner.session(art)
        outs, times = [], []
        for f in evals:
            t = time.perf_counter()
            vals = sess.run(None, runner._feed(art, f))
            times.append(time.perf_counter() - t)
            outs.append(runner._outputs(sess, vals))
        row["emulator_ms_per_sample"] = round(float(np.median(times)) * 1e3, 1)
        row["htp_vs_fp32"] = _metrics(refs, outs, output, task)
        row["htp_vs_simulator"] = _metrics(sims, outs, output, task)
    except Exception as exc:  # reported, the other models still run
        row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    row["ort_qnn_recipe"] = ort_qnn_recipe(path, calib, evals, refs, output, task, arch, tmp)
    row["ort_qnn_recipe_per_channel"] = ort_qnn_recipe(path, calib, evals, refs, output, task, arch, tmp,
                                                       per_channel=True)
    return row


def show(rows: list[dict]) -> None:
    for r in rows:
        print(f"\n== {r['model']} ({r['eval']} eval samples) ==")
        for key in ("htp_vs_fp32", "simulator", "htp_vs_simulator", "ort_qnn_recipe",
                    "ort_qnn_recipe_per_channel"):
            if key in r:
                print(f"  {key:18s} {json.dumps(r[key])}")
        for key in ("not_on_qnn", "context", "emulator_ms_per_sample", "quantize_s", "emit_s", "error"):
            if key in r:
                print(f"  {key:18s} {json.dumps(r[key])}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--eval", type=int, default=50)
    p.add_argument("--arch", type=int, default=75)
    p.add_argument("--json")
    a = p.parse_args(argv)
    rows = []
    for name in a.models.split(","):
        rows.append(bench(name, a.eval, a.arch))
        show(rows[-1:])
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
