"""Benchmark: edgeq's TFLite target on the zoo models, in one run.

    .venv/bin/python benchmarks/tflite.py [--models mobilenet-v2 ...] [--runs 50] [--eval 8]
                                          [--calib 64] [--split N] [--json out.json] [--check]

For each zoo model:

* build: ``edgeq.load`` + ``edgeq.quantize`` (``--calib`` zoo calibration feeds) and the int8 and FP32
  ``.tflite`` emission, each timed;
* size: the FP32 ONNX, edgeq's int8 and FP32 ``.tflite``, and the int8 / ONNX ratio;
* latency, 1 thread, ``warmup`` untimed then ``runs`` timed inferences: LiteRT with its
  default XNNPACK kernels on the int8 and the FP32 ``.tflite``, and onnxruntime on its
  own int8 QDQ model of the same network (``quantize_static``, per-channel, QDQ, the same
  calibration feeds) and on the FP32 ONNX. Reported: p50 of wall-clock time and p50 of
  the calling thread's CPU time (``time.thread_time``; every runtime here computes in the
  calling thread with one thread, and CPU time does not count waiting for a core on a
  busy machine). Speed ratios use CPU time;
* accuracy on ``--eval`` evaluation feeds: LiteRT's reference kernels vs the integer
  simulator (number of bit-identical outputs), and LiteRT XNNPACK, the simulator and
  onnxruntime's int8 model against the FP32 reference
  (``edgeq.profile.accuracy.compare_outputs``: SQNR, cosine, top-1 agreement).

* kernels: which operators of the int8 model LiteRT runs outside its XNNPACK delegate
  (on its builtin kernels), counted by op, and how many XNNPACK partitions there are;
* voice activity (silero): speech-probability MAE and decision agreement at 0.5 of LiteRT
  XNNPACK against FP32;
* settings: every model is also built for the ``tflite-cpu`` profile (the tensors that
  need more than 8 bits in float32, XNNPACK's fast kernels, instead of int16 on LiteRT's
  reference 16x8 kernels), and MiniLM strictly int8 (``int16_residual=False``, the
  ``tflite`` profile): latency timed in five alternating blocks with the FP32 file (the
  ratio is the median of the blocks' ratios), accuracy, whether the file equals the
  default's, and the ops outside XNNPACK.

``--check`` exits 1 unless, for MobileNetV2, the int8 .tflite is >= 2x faster than the
FP32 .tflite and no slower than onnxruntime's int8 model, the int8 file is <= 0.26x the
FP32 ONNX, and, for every model, LiteRT's reference kernels equal the simulator; and for
the ``tflite-cpu`` profile: MobileNetV2's and PP-OCR's files equal the ``tflite`` ones,
MiniLM is <= 0.6x FP32 with cosine mean >= 0.99, silero VAD <= 1.0x FP32 with speech
probability MAE <= 0.02 and decision agreement >= 0.98.
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


def _timed(fn, warmup: int, runs: int) -> dict:
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return {"wall_p50_ms": float(np.median(wall) * 1e3), "cpu_p50_ms": float(np.median(cpu) * 1e3)}


def _litert(model: bytes, reference: bool = False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    it = Interpreter(model_content=model, num_threads=1, **kw)
    it.allocate_tensors()
    return it


def _feed_litert(it, exp, feed):
    from edgeq_tflite.runners.host import HostRunner

    idx = {d["name"]: d["index"] for d in it.get_input_details()}
    for spec in exp.inputs:
        it.set_tensor(idx[spec.name], HostRunner._to_model(spec.to_json(), feed[spec.name]))


def _outputs_litert(it, exp):
    from edgeq_tflite.runners.host import HostRunner

    idx = {d["name"]: d["index"] for d in it.get_output_details()}
    return {s.name: HostRunner._from_model(s.to_json(), it.get_tensor(idx[s.name])) for s in exp.outputs}


#: other settings measured beside a model's default (the ``tflite`` profile): label ->
#: the target profile and the quantize options
SETTINGS = {"minilm-l6": {"int8 residual stream": {"profile": "tflite", "options": {"int16_residual": False}}}}
#: the profile measured on every model
PROFILE_SETTING = {"tflite-cpu": {"profile": "tflite-cpu", "options": {}}}


def _outside_xnnpack(model: bytes) -> tuple[int, dict]:
    """(XNNPACK partitions, {op: count} of the operators LiteRT runs on its builtins)."""
    from edgeq_tflite.runners.delegation import ops_outside_delegate

    return ops_outside_delegate(_litert(model))


def _vad_metrics(outs: list[dict], refs: list[dict]) -> dict:
    p = np.concatenate([np.ravel(o["speech_probs"]) for o in outs])
    r = np.concatenate([np.ravel(o["speech_probs"]) for o in refs])
    return {"mae": float(np.mean(np.abs(p - r))), "agreement": float(np.mean((p > 0.5) == (r > 0.5)))}


def _ort_session(path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _ort_int8(onnx_path: Path, calib: list[dict], out: Path) -> Path:
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(onnx_path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    return out


def bench_model(name: str, runs: int, warmup: int, n_eval: int, n_calib: int, tmp: Path,
                n_split: int | None = None) -> dict:
    import edgeq
    import edgeq.zoo as zoo
    from edgeq.interp.int_interp import run_quantized
    from edgeq.profile.accuracy import compare_outputs

    from edgeq_tflite.emit.export import export_float, export_quantized
    from edgeq_tflite.target import TFLiteTarget

    res: dict = {"model": name}
    onnx_path = zoo.get(name)
    calib = zoo.feeds(name, split="calib", n=n_calib)
    evals = zoo.feeds(name, split="eval", n=n_eval)
    t0 = time.perf_counter()
    model = edgeq.load(onnx_path)
    t1 = time.perf_counter()
    target = TFLiteTarget()
    try:
        qm = edgeq.quantize(model, calib, spec=target.spec_for({"float_fallback": False}))
    except edgeq.EdgeqError as exc:  # a model that needs a float island on TFLite
        res["note"] = f"integer-only failed ({str(exc)[:120]}); float fallback allowed"
        qm = edgeq.quantize(model, calib, spec=target.spec)
    t2 = time.perf_counter()
    e8 = export_quantized(qm.graph, allow_float_fallback=True)
    t3 = time.perf_counter()
    e32 = export_float(model.graph)
    res["build_s"] = {"load": t1 - t0, "quantize": t2 - t1, "emit_int8": t3 - t2,
                      "total_int8": t3 - t0}
    from edgeq_tflite.emit.size import size_breakdown

    onnx_bytes = onnx_path.stat().st_size
    breakdown = size_breakdown(e8.model)
    res["size"] = {"onnx_fp32": onnx_bytes, "tflite_int8": len(e8.model),
                   "tflite_fp32": len(e32.model), "int8_over_onnx": len(e8.model) / onnx_bytes,
                   "int8_breakdown": breakdown,
                   "schema_floor_over_onnx": breakdown["schema_floor"] / onnx_bytes}
    res["tflite"] = {"ops": e8.op_histogram, "transposes": e8.transposes,
                     "float_nodes": e8.float_nodes, "min_runtime_version": e8.min_runtime_version}

    lat = {}
    for label, exp in (("litert_int8", e8), ("litert_fp32", e32)):
        it = _litert(exp.model)
        _feed_litert(it, exp, evals[0])
        lat[label] = _timed(it.invoke, warmup, runs)
    sess = _ort_session(onnx_path)
    lat["ort_fp32"] = _timed(lambda: sess.run(None, evals[0]), warmup, runs)
    ort_q = None
    try:
        ort_q = _ort_session(_ort_int8(onnx_path, calib, tmp / f"{name}.qdq.onnx"))
        lat["ort_int8_qdq"] = _timed(lambda: ort_q.run(None, evals[0]), warmup, runs)
    except Exception as exc:  # onnxruntime's quantizer fails on some models; report it
        res["ort_int8_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    res["latency"] = lat
    cpu = {k: v["cpu_p50_ms"] for k, v in lat.items()}
    res["speedup_int8_vs_fp32_tflite"] = cpu["litert_fp32"] / cpu["litert_int8"]
    if "ort_int8_qdq" in cpu:
        res["speedup_int8_vs_ort_int8"] = cpu["ort_int8_qdq"] / cpu["litert_int8"]

    ref_it, xnn_it = _litert(e8.model, reference=True), _litert(e8.model)
    refs, xnn, sim, fp32, ortq = [], [], [], [], []
    identical = 0
    for feed in evals:
        for it, sink in ((ref_it, refs), (xnn_it, xnn)):
            _feed_litert(it, e8, feed)
            it.invoke()
            sink.append(_outputs_litert(it, e8))
        sim.append(run_quantized(qm.graph, feed))
        fp32.append(model.run(feed))
        identical += all(np.array_equal(refs[-1][k], sim[-1][k]) for k in sim[-1])
        if ort_q is not None:
            names = [o.name for o in ort_q.get_outputs()]
            ortq.append(dict(zip(names, ort_q.run(None, feed))))
    res["bitexact_reference_vs_simulator"] = f"{identical}/{len(evals)}"
    res["accuracy_vs_fp32"] = {"litert_xnnpack": _summary(compare_outputs(xnn, fp32)),
                               "simulator": _summary(compare_outputs(sim, fp32))}
    if ortq:
        res["accuracy_vs_fp32"]["ort_int8_qdq"] = _summary(compare_outputs(ortq, fp32))
    res["xnnpack_partitions"], res["outside_xnnpack"] = _outside_xnnpack(e8.model)
    if name == "silero-vad":
        res["vad_vs_fp32"] = _vad_metrics(xnn, fp32)
    # the settings are scored on the whole evaluation split (LiteRT only), the default too
    split = zoo.feeds(name, split="eval", n=n_split)
    split_fp32 = [model.run(feed) for feed in split]
    outs = _run_all(xnn_it, e8, split)
    res["split"] = {"samples": len(split), "accuracy_vs_fp32": _summary(compare_outputs(outs, split_fp32))}
    if name == "silero-vad":
        res["split"]["vad_vs_fp32"] = _vad_metrics(outs, split_fp32)
    res["settings"] = {}
    for label, setting in {**SETTINGS.get(name, {}), **PROFILE_SETTING}.items():
        res["settings"][label] = _setting(name, model, calib, split, split_fp32, setting, e8, e32,
                                          warmup, runs)
    return res


def _run_all(it, exp, feeds: list[dict]) -> list[dict]:
    outs = []
    for feed in feeds:
        _feed_litert(it, exp, feed)
        it.invoke()
        outs.append(_outputs_litert(it, exp))
    return outs


def _setting(name, model, calib, evals, fp32, setting: dict, default, e32, warmup: int,
             runs: int) -> dict:
    """Latency (timed in alternating blocks with the FP32 file), accuracy and kernels of the
    int8 model of another target profile and quantize options."""
    import edgeq
    from edgeq.profile.accuracy import compare_outputs
    from edgeq.targets import get_target

    from edgeq_tflite.emit.export import export_quantized

    spec = get_target(setting["profile"]).spec
    t0 = time.perf_counter()
    try:
        qm = edgeq.quantize(model, calib, spec=spec, progress=False, **setting["options"])
    except edgeq.EdgeqError:  # a model that needs a float island on TFLite
        qm = edgeq.quantize(model, calib, spec=get_target("tflite", {"float_fallback": True}).spec,
                            progress=False, **setting["options"])
    exp = export_quantized(qm.graph, allow_float_fallback=True)
    out = {"profile": setting["profile"], "options": setting["options"],
           "quantize_and_emit_s": time.perf_counter() - t0,
           "same_file_as_default": exp.model == default.model,
           "size_bytes": len(exp.model), "float_nodes": len(exp.float_nodes),
           "int16_nodes": len(qm.report.get("int16_nodes", []))}
    it, it32 = _litert(exp.model), _litert(e32.model)
    _feed_litert(it, exp, evals[0])
    _feed_litert(it32, e32, evals[0])
    # alternating blocks: a load change on the host hits both sides alike
    blocks = [(_timed(it.invoke, warmup, runs // 5 or 1), _timed(it32.invoke, warmup, runs // 5 or 1))
              for _ in range(5)]
    out["latency"] = {"cpu_p50_ms": float(np.median([b[0]["cpu_p50_ms"] for b in blocks]))}
    out["fp32_latency"] = {"cpu_p50_ms": float(np.median([b[1]["cpu_p50_ms"] for b in blocks]))}
    out["ratio_to_fp32"] = float(np.median([b[0]["cpu_p50_ms"] / b[1]["cpu_p50_ms"] for b in blocks]))
    outs = _run_all(it, exp, evals)
    out["accuracy_vs_fp32"] = _summary(compare_outputs(outs, fp32))
    if name == "silero-vad":
        out["vad_vs_fp32"] = _vad_metrics(outs, fp32)
    out["xnnpack_partitions"], out["outside_xnnpack"] = _outside_xnnpack(exp.model)
    return out


def _summary(acc: dict) -> dict:
    return {k: acc[k] for k in ("sqnr_db", "cosine_mean", "top1_agreement")}


def _print(results: list[dict]) -> None:
    print(f"{'model':<14}{'int8 ms':>9}{'fp32 ms':>9}{'ortq ms':>9}{'x fp32':>8}{'x ortq':>8}"
          f"{'size x':>8}{'bitexact':>10}{'SQNR dB':>9}{'top1':>7}{'build s':>9}")
    for r in results:
        if "error" in r:
            print(f"{r['model']:<14} skipped: {r['error']}")
            continue
        lat = r["latency"]
        acc = r["accuracy_vs_fp32"]["litert_xnnpack"]
        ortq = lat.get("ort_int8_qdq", {}).get("cpu_p50_ms")
        vs_ortq = r.get("speedup_int8_vs_ort_int8")
        top1 = acc["top1_agreement"]
        cells = [f"{lat['litert_int8']['cpu_p50_ms']:>9.2f}", f"{lat['litert_fp32']['cpu_p50_ms']:>9.2f}",
                 f"{ortq:>9.2f}" if ortq else f"{'-':>9}", f"{r['speedup_int8_vs_fp32_tflite']:>8.2f}",
                 f"{vs_ortq:>8.2f}" if vs_ortq else f"{'-':>8}", f"{r['size']['int8_over_onnx']:>8.3f}",
                 f"{r['bitexact_reference_vs_simulator']:>10}", f"{acc['sqnr_db']:>9.1f}",
                 f"{top1:>7.3f}" if top1 is not None else f"{'-':>7}", f"{r['build_s']['total_int8']:>9.1f}"]
        print(f"{r['model']:<14}" + "".join(cells))
        b = r["size"]["int8_breakdown"]
        print(f"{'':<14}int8 bytes: {b['constant_data']} constants + {b['scales']} scales + "
              f"{b['zero_points']} zero points + {b['graph']} graph = {b['total']}; the schema's floor "
              f"(constants + quantization vectors) is {r['size']['schema_floor_over_onnx']:.4f}x the ONNX")
        acc_all = r["accuracy_vs_fp32"]["litert_xnnpack"]
        print(f"{'':<14}cosine mean {acc_all['cosine_mean']:.4f}; int8 ops on LiteRT's builtin kernels "
              f"(outside {r['xnnpack_partitions']} XNNPACK partitions): {_ops_text(r['outside_xnnpack'])}")
        if "vad_vs_fp32" in r:
            v = r["vad_vs_fp32"]
            print(f"{'':<14}speech probability MAE {v['mae']:.4f}, decision agreement {v['agreement']:.4f}")
        sp = r["split"]
        vad = sp.get("vad_vs_fp32")
        print(f"{'':<14}on the whole evaluation split ({sp['samples']} samples), LiteRT XNNPACK: " +
              (f"speech MAE {vad['mae']:.4f}, agreement {vad['agreement']:.4f}" if vad else
               f"cosine mean {sp['accuracy_vs_fp32']['cosine_mean']:.4f}, SQNR {sp['accuracy_vs_fp32']['sqnr_db']:.1f} dB"))
        for label, st in r.get("settings", {}).items():
            ms, ms32 = st["latency"]["cpu_p50_ms"], st["fp32_latency"]["cpu_p50_ms"]
            vad = st.get("vad_vs_fp32")
            acc_text = (f"speech MAE {vad['mae']:.4f}, agreement {vad['agreement']:.4f}" if vad else
                        f"cosine mean {st['accuracy_vs_fp32']['cosine_mean']:.4f}")
            same = "; the same file as the default" if st["same_file_as_default"] else ""
            print(f"{'':<14}setting '{label}' (--target {st['profile']}, {st['options'] or 'defaults'}): "
                  f"int8 {ms:.2f} ms vs FP32 {ms32:.2f} ms in alternating blocks = "
                  f"{st['ratio_to_fp32']:.2f}x FP32, {acc_text}, {st['int16_nodes']} int16 / "
                  f"{st['float_nodes']} float nodes, {st['size_bytes'] / r['size']['onnx_fp32']:.3f}x "
                  f"the ONNX{same}; outside {st['xnnpack_partitions']} XNNPACK partitions: "
                  f"{_ops_text(st['outside_xnnpack'])}")
        for key in ("note", "ort_int8_error"):
            if key in r:
                print(f"{'':<14}{key}: {r[key]}")


def _ops_text(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def check(results: list[dict]) -> list[str]:
    problems = []
    for r in results:
        if "error" in r:
            problems.append(f"{r['model']}: {r['error']}")
            continue
        done, total = r["bitexact_reference_vs_simulator"].split("/")
        if done != total:
            problems.append(f"{r['model']}: reference kernels differ from the simulator ({done}/{total})")
        if r["model"] == "mobilenet-v2":
            if r["speedup_int8_vs_fp32_tflite"] < 2.0:
                problems.append(f"mobilenet-v2: int8 only {r['speedup_int8_vs_fp32_tflite']:.2f}x faster than FP32")
            if r.get("speedup_int8_vs_ort_int8", 0.0) < 1.0:
                problems.append("mobilenet-v2: int8 .tflite slower than onnxruntime int8 QDQ")
            if r["size"]["int8_over_onnx"] > 0.26:
                problems.append(f"mobilenet-v2: int8 size {r['size']['int8_over_onnx']:.3f}x the ONNX (> 0.26; "
                                f"the schema's floor for per-channel int8 is "
                                f"{r['size']['schema_floor_over_onnx']:.4f}x)")
        cpu = r.get("settings", {}).get("tflite-cpu")
        if cpu is None:
            continue
        if r["model"] in ("mobilenet-v2", "ppocr-cls") and not cpu["same_file_as_default"]:
            problems.append(f"{r['model']}: the tflite-cpu file differs from the tflite one")
        if r["model"] == "minilm-l6" and (cpu["ratio_to_fp32"] > 0.6
                                          or cpu["accuracy_vs_fp32"]["cosine_mean"] < 0.99):
            problems.append(f"minilm-l6: tflite-cpu {cpu['ratio_to_fp32']:.2f}x FP32 (bar 0.6), cosine "
                            f"{cpu['accuracy_vs_fp32']['cosine_mean']:.4f} (bar 0.99)")
        if r["model"] == "silero-vad":
            vad = cpu["vad_vs_fp32"]
            if cpu["ratio_to_fp32"] > 1.0 or vad["mae"] > 0.02 or vad["agreement"] < 0.98:
                problems.append(f"silero-vad: tflite-cpu {cpu['ratio_to_fp32']:.2f}x FP32 (bar 1.0), MAE "
                                f"{vad['mae']:.4f} (bar 0.02), agreement {vad['agreement']:.4f} (bar 0.98)")
    return problems


def main(argv=None) -> int:
    import edgeq.zoo as zoo

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--eval", type=int, default=8)
    ap.add_argument("--calib", type=int, default=64)
    ap.add_argument("--split", type=int, default=None,
                    help="evaluation samples for the settings' accuracy (default: the whole split)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models or zoo.names():
            print(f"-- {name}", file=sys.stderr, flush=True)
            try:
                results.append(bench_model(name, args.runs, args.warmup, args.eval, args.calib, Path(tmp),
                                           args.split))
            except Exception as exc:  # report and go on with the other models
                results.append({"model": name, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    if args.check:
        problems = check(results)
        for p in problems:
            print(f"CHECK FAILED: {p}")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
