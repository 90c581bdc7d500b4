"""Benchmark: real-model coverage, edgeq W8A8 (TFLite) next to onnxruntime's quantize_static.

    .venv/bin/python benchmarks/coverage.py [--models yolov8-fall ppocrv4-det ...] [--markdown]

For every model of ``tests/integration/_coverage_models.py`` (one per edge family, files
from pinned registry wheels): the op histogram, edgeq's float interpreter against
onnxruntime (max abs error / max |ref|), ``edgeq.quantize`` with defaults (TFLite int8,
integer-only) timed, the .tflite export timed, the LiteRT reference kernels against
edgeq's integer simulator (bit-exact or the number of differing integers), and the W8A8
result against FP32: SQNR of the first output and the task metric. In the same run and
on the same calibration/eval feeds, onnxruntime's ``quantize_static`` (QDQ, per-channel
int8 weights, int8 activations, MinMax) gives the baseline's build time, SQNR and metric.
``--markdown`` prints the table for docs/ops.md.

``--targets ane qnn-htp-v75`` adds, per model, each other target built with
``edgeq.build`` from the same calibration (its own spec's quantization, statistics from
the cache) and profiled with its ``host`` runner on the same evaluation feeds: the task
metric against FP32 and the build time, or the node and reason the target refuses.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from _coverage_models import MODELS  # noqa: E402
from _coverage_pipeline import run_pipeline, sqnr_db  # noqa: E402


def _ort_session(src):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def ort_quantize_static(path: Path, calib, evals) -> tuple[dict, list]:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            return next(self.it, None)

    out = Path(tempfile.mkdtemp()) / "ort_int8.onnx"
    t0 = time.perf_counter()
    quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    build_s = time.perf_counter() - t0
    sess = _ort_session(str(out))
    names = [o.name for o in sess.get_outputs()]
    return {"build_s": build_s}, [dict(zip(names, sess.run(names, f))) for f in evals]


def _first_sqnr(refs, outs, name) -> float:
    ref = np.concatenate([np.asarray(r[name], np.float64).ravel() for r in refs])
    got = np.concatenate([np.asarray(o[name], np.float64).ravel() for o in outs])
    return sqnr_db(ref, got)


def measure(cm, targets=()) -> dict:
    row = {"model": cm.name, "family": cm.family}
    path = cm.path()
    calib, evals = cm.feeds("calib", cm.n_calib), cm.feeds("eval", cm.n_eval)
    t0 = time.perf_counter()
    res = run_pipeline(path, cm.input_shapes, calib, evals, **cm.quantize_options)
    row["pipeline_s"] = time.perf_counter() - t0
    row["ops"] = res.ops
    row["float_err"] = res.float_max_error / max(res.float_scale, 1e-30)
    row["quantize_s"] = res.quantize_s
    row["build_s"] = res.build_s
    row["bitexact"] = "yes" if res.bitexact else f"no ({sum(res.mismatches.values())} differ)"
    metric_name, row["metric"] = cm.metric(res.fp32_outputs, res.int8_outputs)
    row["metric_name"] = metric_name
    main = _metric_output(cm, res)
    row["sqnr"] = _first_sqnr(res.fp32_outputs, res.int8_outputs, main)
    try:
        ort_row, ort_outs = ort_quantize_static(path, calib, evals)
        row["ort_build_s"] = ort_row["build_s"]
        row["ort_sqnr"] = _first_sqnr(res.fp32_outputs, ort_outs, main)
        row["ort_metric"] = cm.metric(res.fp32_outputs, ort_outs)[1]
    except Exception as exc:  # the baseline's own failure is a result
        row["ort_error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
    if targets:
        row["targets"] = measure_targets(cm, list(targets), path, calib, evals, res.fp32_outputs)
    return row


def measure_targets(cm, targets: list[str], path: Path, calib, evals, fp32_outputs) -> dict:
    """``{target: {"metric", "build_s"} | {"refused": reason}}`` (see module docstring)."""
    import edgeq
    from edgeq.errors import EdgeqError

    out: dict = {}
    model = edgeq.load(path, input_shapes=cm.input_shapes)
    for target in targets:
        t0 = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                arts = edgeq.build(model, targets=[target], calibration=calib, output_dir=tmp, progress=False)
                build_s = time.perf_counter() - t0
                art = next(iter(arts.values()))
                res = edgeq.profile(art.path, data=evals, runs=1, warmup=0, progress=False,
                                    report_formats=())
                outs = [{k: np.asarray(v) for k, v in o.items()} for o in res.outputs]
                out[target] = {"metric": cm.metric(fp32_outputs, outs)[1], "build_s": build_s}
        except EdgeqError as exc:
            out[target] = {"refused": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
    return out


def _metric_output(cm, res) -> str:
    names = list(res.fp32_outputs[0])
    for preferred in ("461", "sentence_embedding", "speech_probs"):
        if preferred in names:
            return preferred
    return names[0]


def _fmt(v, spec=".1f"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def print_table(rows, markdown: bool) -> None:
    head = ["model", "family", "nodes", "float max err (rel)", "W8A8 SQNR dB", "task metric",
            "quantize s", "tflite build s", "tflite bit-exact", "ORT qs SQNR dB", "ORT qs metric",
            "ORT qs build s"]
    lines = []
    for r in rows:
        if "error" in r:
            lines.append([r["model"], r.get("family", ""), "-", "-", "-", f"FAILED: {r['error']}",
                          "-", "-", "-", "-", "-", "-"])
            continue
        ops = sum(r["ops"].values())
        lines.append([r["model"], r["family"], str(ops), _fmt(r["float_err"], ".1e"), _fmt(r["sqnr"]),
                      f"{r['metric_name']} {_fmt(r['metric'], '.3f')}", _fmt(r["quantize_s"]),
                      _fmt(r["build_s"], ".2f"), r["bitexact"], _fmt(r.get("ort_sqnr")),
                      _fmt(r.get("ort_metric"), ".3f") if "ort_error" not in r else r["ort_error"],
                      _fmt(r.get("ort_build_s"))])
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    print()
    target_names = sorted({t for r in rows for t in r.get("targets", {})})
    if target_names:
        head2 = ["model"] + [f"{t} {what}" for t in target_names for what in ("metric", "build s")]
        print("| " + " | ".join(head2) + " |")
        print("|" + "---|" * len(head2))
        for r in rows:
            cells = [r["model"]]
            for t in target_names:
                e = r.get("targets", {}).get(t, {})
                if "refused" in e:
                    cells += [f"refused: {e['refused']}", "-"]
                else:
                    cells += [_fmt(e.get("metric"), ".3f"), _fmt(e.get("build_s"))]
            print("| " + " | ".join(cells) + " |")
        print()
    for r in rows:
        if "ops" in r:
            print(f"{r['model']} ops: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(r["ops"].items(), key=lambda kv: -kv[1])))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=[m.name for m in MODELS])
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--targets", nargs="*", default=[],
                    help="other targets to build and profile on the host (e.g. ane qnn-htp-v75)")
    args = ap.parse_args(argv)
    rows = []
    for cm in MODELS:
        if cm.name not in args.models:
            continue
        print(f"# {cm.name} ...", file=sys.stderr, flush=True)
        try:
            rows.append(measure(cm, args.targets))
        except Exception as exc:
            traceback.print_exc()
            rows.append({"model": cm.name, "family": cm.family, "error": f"{type(exc).__name__}: {exc}"[:300]})
    print_table(rows, args.markdown)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
