"""Stand-in for TFLite's ``benchmark_model`` binary, for the fake adb device.

It runs the pushed ``.tflite`` with LiteRT (ai_edge_litert) on the host and prints in the
real tool's format (``tensorflow/lite/tools/benchmark/benchmark_model.cc``,
``benchmark_tflite_model.cc``, ``tsl::Stat::OutputToStream``): parameter log, ``Loaded
model``, ``Initialized session in …ms.``, warm-up and regular ``count=… first=… curr=…
min=… max=… avg=… std=…`` lines, ``Inference timings in us: …``, the memory footprint
line, and with ``--enable_op_profiling`` the tab-separated op tables. It honours
``--input_layer`` / ``--input_layer_shape`` / ``--input_layer_value_files`` (raw tensor
bytes; ``::`` escapes ``:`` in names) and ``--output_filepath`` (all outputs' raw bytes,
concatenated in the interpreter's output order, written after the last run).

Op timings in the profile tables are synthetic (the measured inference time split over
the ops in proportion to their output sizes): LiteRT's Python API has no op profiler.

Faults come from ``EDGEQ_FAKE_BM_MODE``: ok | hang | exit | garbage | legacy (no
``--output_filepath`` flag, like releases before TF 2.11).
"""

from __future__ import annotations

import math
import os
import random
import resource
import sys
import time

FLAG_DEFAULTS = {
    "graph": "", "num_threads": "-1", "num_runs": "50", "min_secs": "1", "max_secs": "150",
    "warmup_runs": "1", "warmup_min_secs": "0.5", "enable_op_profiling": "false",
    "use_xnnpack": None, "use_gpu": "false", "use_nnapi": "false", "input_layer": "",
    "input_layer_shape": "", "input_layer_value_files": "", "output_filepath": "",
    "report_peak_memory_footprint": "false", "verbose": "false", "help": "false",
}


def info(msg: str) -> None:
    print(f"INFO: {msg}", flush=True)


def truthy(v) -> bool:
    return str(v).lower() in ("1", "true")


def parse_flags(argv, legacy: bool):
    flags, unconsumed = dict(FLAG_DEFAULTS), []
    for a in argv:
        key, sep, value = a[2:].partition("=") if a.startswith("--") else ("", "", "")
        if key in flags and not (legacy and key == "output_filepath"):
            flags[key] = value if sep else "true"
        else:
            unconsumed.append(a)
    return flags, unconsumed


def stat_line(samples_us) -> str:
    """tsl::Stat<int64_t>::OutputToStream."""
    if not samples_us:
        return "count=0"
    n, lo, hi = len(samples_us), min(samples_us), max(samples_us)
    if lo == hi:
        return f"count={n} curr={samples_us[-1]}" + ("(all same)" if n > 1 else "")
    avg = sum(samples_us) / n
    std = int(math.sqrt(max(sum(s * s for s in samples_us) / n - avg * avg, 0.0)))
    return (f"count={n} first={samples_us[0]} curr={samples_us[-1]} min={lo} max={hi} "
            f"avg={avg:g} std={std}")


def split_value_files(spec: str):
    """SplitInputLayerNameAndValueFile: items separated by ',', name and path by ':',
    '::' is a literal ':'."""
    out = {}
    for item in filter(None, spec.split(",")):
        i, delim = 0, -1
        while i < len(item) - 1:
            if item[i] == ":":
                if item[i + 1] == ":":
                    i += 1
                elif delim == -1:
                    delim = i
            i += 1
        if delim < 0:
            print(f"ERROR: {item} doesn't contain any delimiter.")
            sys.exit(1)
        out[item[:delim].replace("::", ":")] = item[delim + 1:].replace("::", ":")
    return out


def run_loop(interp, reset, min_runs: int, min_secs: float, max_secs: float):
    info(f"Running benchmark for at least {min_runs} iterations and at least {min_secs:g} seconds "
         f"but terminate if exceeding {max_secs:g} seconds.")
    samples, start = [], time.perf_counter()
    while (len(samples) < min_runs or time.perf_counter() - start < min_secs) and \
            time.perf_counter() - start <= max_secs:
        reset()
        t0 = time.perf_counter()
        interp.invoke()
        samples.append(int((time.perf_counter() - t0) * 1e6))
    info(stat_line(samples) + "\n")
    return samples


def print_op_profile(interp, avg_us: float) -> None:
    ops = interp._get_ops_details()
    sizes = []
    for op in ops:
        n = 0
        for t in op["outputs"]:
            d = interp._get_tensor_details(int(t), 0)
            n += int(max(1, math.prod(int(s) for s in d["shape"])))
        sizes.append(n)
    total = float(sum(sizes)) or 1.0
    ms = [avg_us / 1e3 * s / total for s in sizes]
    header = ("\t             [node type]\t  [first]\t [avg ms]\t     [%]\t  [cdf%]\t  [mem KB]"
              "\t[times called]\t[Name]")
    info("Operator-wise Profiling Info for Regular Benchmark Runs:")
    print("============================== Run Order ==============================")
    print(header)
    cdf = 0.0
    for op, t in zip(ops, ms):
        pct = 100.0 * t / (sum(ms) or 1.0)
        cdf += pct
        out_name = interp._get_tensor_details(int(op["outputs"][0]), 0)["name"]
        print(f"\t{op['op_name']:>24}\t{t:9.3f}\t{t:9.3f}\t{pct:7.3f}%\t{cdf:7.3f}%\t{0.0:10.3f}"
              f"\t{1:9d}\t[{out_name}]:{op['index']}")
    print()
    print("============================== Top by Computation Time ==============================")
    print(header)
    for op, t in sorted(zip(ops, ms), key=lambda x: -x[1]):
        out_name = interp._get_tensor_details(int(op["outputs"][0]), 0)["name"]
        print(f"\t{op['op_name']:>24}\t{t:9.3f}\t{t:9.3f}\t{0.0:7.3f}%\t{0.0:7.3f}%\t{0.0:10.3f}"
              f"\t{1:9d}\t[{out_name}]:{op['index']}")
    print()
    print(f"Number of nodes executed: {len(ops)}")
    print(f"Timings (microseconds): count=1 curr={int(avg_us)}")
    print("Memory (bytes): count=0")
    print(f"{len(ops)} nodes observed\n")


def main(argv) -> int:
    mode = os.environ.get("EDGEQ_FAKE_BM_MODE", "ok")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info("STARTING!")
    if mode == "hang":
        while True:
            time.sleep(60)
    if mode == "garbage":
        print("\x00\x7fSegmentation... ?? 3.14 count=abc Inference timings: none\n%%%%")
        return 0
    if mode == "exit":
        print("ERROR: Failed to allocate tensors!", file=sys.stderr)
        print("ERROR: Benchmarking failed.", file=sys.stderr)
        return 1
    flags, unconsumed = parse_flags(argv, legacy=mode == "legacy")
    info(f"Log parameter values verbosely: [{int(truthy(flags['verbose']))}]")
    info(f"Min num runs: [{flags['num_runs']}]")
    info(f"Num threads: [{flags['num_threads']}]")
    info(f"Graph: [{flags['graph']}]")
    if unconsumed:
        print(f"WARN: Unconsumed cmdline flags: {' '.join(unconsumed)}")
    if not flags["graph"]:
        print("ERROR: Please specify the name of your TF Lite input file with --graph")
        return 1
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    t_init = time.perf_counter()
    resolver = OpResolverType.AUTO
    if flags["use_xnnpack"] is not None and not truthy(flags["use_xnnpack"]):
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    threads = int(flags["num_threads"])
    try:
        interp = Interpreter(model_path=flags["graph"], num_threads=threads if threads > 0 else None,
                             experimental_op_resolver_type=resolver)
    except (ValueError, RuntimeError) as exc:
        print(f"ERROR: Failed to load model {flags['graph']} ({exc})")
        return 1
    info(f"Loaded model {flags['graph']}")
    if truthy(flags["use_gpu"]):
        info("Created TensorFlow Lite delegate for GPU.")
        info("Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate.")
    if truthy(flags["use_nnapi"]):
        info("Created TensorFlow Lite delegate for NNAPI.")
        info("Explicitly applied NNAPI delegate, and the model graph will be completely executed by the delegate.")
    interp.allocate_tensors()
    inputs = interp.get_input_details()
    names = [n for n in flags["input_layer"].split(",") if n] if flags["input_layer"] else []
    shapes = flags["input_layer_shape"].split(":") if flags["input_layer_shape"] else []
    if len(names) != len(shapes):
        print(f"ERROR: The number of items in --input_layer_shape ({flags['input_layer_shape']}, with "
              f"{len(shapes)} items) must match the number of items in --input_layer "
              f"({flags['input_layer']}, with {len(names)} items).")
        return 1
    if names and len(names) != len(inputs):
        print(f"ERROR: Inputs mismatch: Model inputs #:{len(names)} expected: {len(inputs)}")
        return 1
    files = split_value_files(flags["input_layer_value_files"])
    data = []
    for i, d in enumerate(inputs):
        name = names[i] if names else d["name"]
        if names and name != d["name"]:
            print(f"WARN: Tensor # {d['index']} is named {d['name']} but flags call it {name}")
        nbytes = int(np.prod(d["shape"])) * np.dtype(d["dtype"]).itemsize
        if name in files:
            path = files[name]
            if not os.path.isfile(path):
                print(f"ERROR: Failed to read the input_layer_value_file:{path}")
                return 1
            raw = open(path, "rb").read()
            if len(raw) != nbytes:
                print(f"ERROR: The size of {path} is {len(raw)} bytes. It should be {nbytes} bytes.")
                return 1
            data.append(np.frombuffer(raw, d["dtype"]).reshape(d["shape"]))
        else:
            rng = np.random.default_rng(random.randrange(1 << 30))
            data.append(rng.uniform(-1, 1, d["shape"]).astype(d["dtype"]) if d["dtype"] == np.float32
                        else rng.integers(-128, 127, d["shape"]).astype(d["dtype"]))

    def reset():
        for d, v in zip(inputs, data):
            interp.set_tensor(d["index"], v)

    init_us = int((time.perf_counter() - t_init) * 1e6)
    rss_init = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info(f"The input model file size (MB): {os.path.getsize(flags['graph']) / 1e6:g}")
    info(f"Initialized session in {init_us / 1e3:g}ms.")
    max_secs = float(flags["max_secs"])
    warm = run_loop(interp, reset, int(flags["warmup_runs"]), float(flags["warmup_min_secs"]), max_secs)
    runs = run_loop(interp, reset, int(flags["num_runs"]), float(flags["min_secs"]), max_secs)
    rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    avg = sum(runs) / len(runs) if runs else float("nan")
    warm_avg = sum(warm) / len(warm) if warm else float("nan")
    info(f"Inference timings in us: Init: {init_us}, First inference: {warm[0] if warm else 0}, "
         f"Warmup (avg): {warm_avg:g}, Inference (avg): {avg:g}")
    info("Note: as the benchmark tool itself affects memory footprint, the following is only "
         "APPROXIMATE to the actual memory footprint of the model at runtime. Take the information "
         "at your discretion.")
    info(f"Memory footprint delta from the start of the tool (MB): init={(rss_init - rss0) / 1024:g} "
         f"overall={(rss_end - rss0) / 1024:g}")
    if truthy(flags["report_peak_memory_footprint"]):
        info(f"Overall peak memory footprint (MB) via periodic monitoring: {rss_end / 1024:g}")
    if truthy(flags["enable_op_profiling"]) and runs:
        print_op_profile(interp, avg)
    if flags["output_filepath"]:
        with open(flags["output_filepath"], "wb") as fh:
            for d in interp.get_output_details():
                fh.write(np.ascontiguousarray(interp.get_tensor(d["index"])).tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
