"""Benchmark: peak memory of building the zoo models, and whether a large calibration set
grows it.

    .venv/bin/python benchmarks/memory.py [--models mobilenet-v2,...] [--targets tflite,ane,qnn-htp-v75]
        [--samples 128,10000] [--json FILE]

Per zoo model and per calibration-set size, one fresh subprocess builds every target
from one calibration (``edgeq.build``, cold calibration cache, no per-layer SQNR) and
reports Linux's ``VmHWM`` (peak resident set) of the whole process and the part of it
above the RSS just before the build (imports, the zoo model and the data set object are
before). The data set is the zoo's calibration split cycled to N samples with
index-seeded noise on float inputs, as a lazy sequence (read one sample at a time, the
way a directory of files is), so N = 10,000 measures edgeq's own memory, not the data's.

Side by side, the baseline each row needs: the FP32 model's file size and the peak of
one onnxruntime session running the FP32 model once in a fresh process (the floor any
tool that runs the model has).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import Cycled, proc_status_mb  # noqa: E402

MODELS = ("mobilenet-v2", "ppocr-cls", "silero-vad", "minilm-l6")
TARGETS = ("tflite", "ane", "qnn-htp-v75")


def child_build(name: str, n: int, targets: list[str]) -> None:
    import edgeq
    import edgeq.data as ed
    from edgeq import zoo

    base = zoo.dataset(name, "calib")
    data = ed.from_iterable(Cycled(base, n, noise=0.01), name=f"{name}-calib-x{n}")
    path = zoo.get(name)
    with tempfile.TemporaryDirectory() as out:
        before = proc_status_mb("VmRSS")
        t0 = time.perf_counter()
        edgeq.build(str(path), targets=targets, calibration=data, num_samples=n, output_dir=out,
                    progress=False, layer_sqnr_samples=0, use_cache=False)  # cold: calibrate
        seconds = time.perf_counter() - t0
    print(json.dumps({"before_mb": before, "peak_mb": proc_status_mb("VmHWM"), "seconds": round(seconds, 1)}))


def child_ort(name: str) -> None:
    import numpy as np
    import onnxruntime as ort

    from edgeq import zoo

    feed = zoo.dataset(name, "calib")[0]
    before = proc_status_mb("VmRSS")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(zoo.get(name)), so, providers=["CPUExecutionProvider"])
    sess.run(None, {k: np.asarray(v) for k, v in feed.items()})
    print(json.dumps({"before_mb": before, "peak_mb": proc_status_mb("VmHWM")}))


def _run(*args: str) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env,
                          timeout=7200)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--samples", default="128,10000")
    ap.add_argument("--json")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child[0] == "ort":
            child_ort(args.child[1])
        else:
            child_build(args.child[1], int(args.child[2]), args.child[3].split(","))
        return
    from edgeq import zoo

    rows = []
    sizes = [int(s) for s in args.samples.split(",")]
    print(f"targets built from one calibration: {args.targets}")
    print(f"{'model':14} {'FP32 MB':>8} {'ORT peak':>9} " +
          " ".join(f"{f'peak@{n}':>11} {f'build@{n}':>10} {'s':>6}" for n in sizes))
    for name in args.models.split(","):
        row = {"model": name, "fp32_mb": round(zoo.get(name).stat().st_size / 1e6, 1),
               "ort": _run("--child", "ort", name)}
        for n in sizes:
            row[n] = _run("--child", "build", name, str(n), args.targets)
        rows.append(row)
        cells = []
        for n in sizes:
            r = row[n]
            cells.append(f"{r.get('peak_mb', 'ERR'):>11} {round(r['peak_mb'] - r['before_mb'], 1) if 'peak_mb' in r else r.get('error', '')[:10]:>10} "
                         f"{r.get('seconds', ''):>6}")
        print(f"{name:14} {row['fp32_mb']:>8} {row['ort'].get('peak_mb', 'ERR'):>9} " + " ".join(cells), flush=True)
    print("peak: VmHWM of the whole process (MB); build: the part above the RSS before edgeq.build; "
          "ORT peak: one FP32 onnxruntime session and run")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
