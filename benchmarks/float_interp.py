"""Benchmark: edgeq's numpy float interpreter vs onnxruntime (1 thread) on the zoo models.

    .venv/bin/python benchmarks/float_interp.py [--models mobilenet-v2 ...] [--runs 30]

For each real model, three float paths are measured, each in its own fresh subprocess
(so one path's allocations cannot inflate another's memory figures):

* ``edgeq``    - ``edgeq.interp.float_interp.run_graph`` on the canonical graph;
* ``ort``      - onnxruntime on the original ``.onnx`` (``intra_op_num_threads=1``);
* ``ort-ir``   - ``edgeq.interp.ort_backend.OrtRunner`` on the canonical graph with
  *every* node output requested (what calibration needs), 1 thread.

Latency: ``warmup`` untimed runs, then ``runs`` timed runs; wall-clock
(``time.perf_counter``) mean, p50 and min, and the p50 of the calling thread's CPU time
(``time.thread_time``), which excludes time spent waiting for a core on a busy machine
(both paths compute in the calling thread: numpy with one BLAS thread, onnxruntime with
``intra_op_num_threads=1``). The ``x ORT`` column is the ratio of CPU-time p50s. Every
worker pins BLAS/OpenMP to one thread (``OPENBLAS_NUM_THREADS=1`` etc.).

Memory (Linux): after setup and one run, the process's current RSS is read and its
high-water mark reset (``/proc/self/clear_refs`` = 5); after the timed runs ``VmHWM`` is
the peak RSS while running inference, and ``peak - before`` is the extra memory the
inference needs. For ``edgeq`` the peak of Python/numpy allocations seen by
``tracemalloc`` during one run is reported too (onnxruntime's C++ arena is invisible to
tracemalloc, so that column is empty for the ort paths). Where clear_refs is not
available the lifetime ``ru_maxrss`` is reported instead and marked as such.

A model that the zoo cannot provide (not built yet, no registry access) is skipped with
the reason. Feeds come from ``edgeq.zoo.feeds(name, "eval", n=1)`` when available, else
seeded random data of the right shape (stated in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BACKENDS = ("edgeq", "ort", "ort-ir")
_ONE_THREAD = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


# -- worker side -------------------------------------------------------------------

def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _feeds(name, info):
    import numpy as np

    import edgeq.zoo as zoo

    try:
        return zoo.feeds(name, split="eval", n=1)[0], "zoo eval sample"
    except Exception as exc:  # the data side of the zoo may not exist yet
        rng = np.random.default_rng(0)
        feeds = {}
        for spec in info.inputs:
            if spec.dtype.startswith("int"):
                arr = rng.integers(1000, 5000, spec.shape) if "ids" in spec.name else np.ones(spec.shape)
                feeds[spec.name] = arr.astype(spec.dtype)
            else:
                feeds[spec.name] = (0.1 * rng.standard_normal(spec.shape)).astype(spec.dtype)
        return feeds, f"seeded random data (zoo.feeds unavailable: {type(exc).__name__})"


def _canonical_graph(path, shapes):
    try:
        from edgeq.model import load
    except ImportError:
        load = None
    if load is not None:
        return load(path, input_shapes=shapes).graph
    from edgeq.ir.onnx_import import import_onnx
    from edgeq.ir.pipeline import canonicalize

    return canonicalize(import_onnx(path, input_shapes=shapes))


def worker(name: str, backend: str, runs: int, warmup: int) -> dict:
    import numpy as np

    import edgeq.zoo as zoo

    try:
        info = zoo.info(name)
        path = str(zoo.get(name))
    except Exception as exc:
        return {"skip": f"{type(exc).__name__}: {exc}"}
    feeds, feed_source = _feeds(name, info)
    shapes = {k: tuple(v.shape) for k, v in feeds.items()}
    graph = None
    if backend in ("edgeq", "ort-ir"):
        graph = _canonical_graph(path, shapes)
    if backend == "edgeq":
        from edgeq.interp.float_interp import run_graph

        def fn():
            return run_graph(graph, feeds)
    elif backend == "ort":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

        def fn():
            return session.run(None, feeds)
    else:
        from edgeq.interp.ort_backend import OrtRunner

        every = [o for n in graph.nodes for o in n.outputs if o]
        runner = OrtRunner(graph, outputs=every, threads=1)

        def fn():
            return runner.run(feeds)
    fn()
    rss_before = _status_kb("VmRSS")
    exact_peak = _reset_peak()
    for _ in range(max(warmup - 1, 0)):
        fn()
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.thread_time() - c0) * 1e3)
    result = {
        "feeds": feed_source, "mean_ms": float(np.mean(times)), "p50_ms": float(np.median(times)),
        "min_ms": float(np.min(times)), "cpu_p50_ms": float(np.median(cpu)), "runs": runs,
    }
    if exact_peak and rss_before is not None:
        peak = _status_kb("VmHWM")
        result.update(peak_rss_mb=peak / 1024, extra_mb=(peak - rss_before) / 1024, peak_method="VmHWM")
    else:
        import resource

        result.update(peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      extra_mb=None, peak_method="ru_maxrss (lifetime)")
    if backend == "edgeq":
        import tracemalloc

        tracemalloc.start()
        fn()
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        # accuracy of this run against onnxruntime, so the speed is for correct results
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        ref = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        want = dict(zip([o.name for o in ref.get_outputs()], ref.run(None, feeds)))
        got = fn()
        result["max_abs_diff"] = max(float(np.max(np.abs(got[k] - want[k]))) for k in graph.outputs)
        result["allclose_1e-4"] = all(np.allclose(got[k], want[k], rtol=1e-4, atol=1e-4) for k in graph.outputs)
    return result


# -- driver side -------------------------------------------------------------------

def _run_worker(name: str, backend: str, args) -> dict:
    env = dict(os.environ, **_ONE_THREAD)
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--worker", name, backend, "--runs", str(args.runs),
           "--warmup", str(args.warmup)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"skip": f"worker failed (exit {proc.returncode}): {tail[0]}"}
    return json.loads(lines[-1])


def _fmt(v, spec=".1f") -> str:
    return "-" if v is None else format(v, spec)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="zoo model names (default: all)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, backend = args.worker
        print(json.dumps(worker(name, backend, args.runs, args.warmup)))
        return 0
    try:
        import edgeq.zoo as zoo

        names = args.models or zoo.names()
    except Exception as exc:
        print(f"edgeq.zoo is not available ({exc}); nothing to benchmark")
        return 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"edgeq float interpreter vs onnxruntime, 1 thread each; {os.cpu_count()} CPUs; "
          f"load average {load[0]:.2f}" if load else "")
    header = (f"{'model':<14}{'path':<8}{'mean ms':>9}{'p50 ms':>9}{'min ms':>9}{'cpu p50':>9}{'x ORT':>7}"
              f"{'peak RSS MB':>13}{'+infer MB':>11}{'numpy MB':>10}  notes")
    print(header)
    print("-" * len(header))
    for name in names:
        results = {b: _run_worker(name, b, args) for b in BACKENDS}
        if all("skip" in r for r in results.values()):
            print(f"{name:<14}skipped: {results['edgeq']['skip']}")
            continue
        base = results["ort"].get("cpu_p50_ms")
        for backend, r in results.items():
            if "skip" in r:
                print(f"{name:<14}{backend:<8}skipped: {r['skip']}")
                continue
            ratio = r["cpu_p50_ms"] / base if base else None
            notes = []
            if "allclose_1e-4" in r:
                notes.append(f"vs ORT max|diff| {r['max_abs_diff']:.2e} "
                             f"({'ok' if r['allclose_1e-4'] else 'MISMATCH'} at 1e-4)")
            if r.get("peak_method") != "VmHWM":
                notes.append(f"memory: {r.get('peak_method')}")
            if backend == "edgeq":
                notes.append(f"feeds: {r['feeds']}")
            print(f"{name:<14}{backend:<8}{r['mean_ms']:>9.2f}{r['p50_ms']:>9.2f}{r['min_ms']:>9.2f}"
                  f"{r['cpu_p50_ms']:>9.2f}"
                  f"{_fmt(ratio, '.2f'):>7}{_fmt(r.get('peak_rss_mb')):>13}{_fmt(r.get('extra_mb')):>11}"
                  f"{_fmt(r.get('traced_peak_mb')):>10}  {'; '.join(notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
