"""One model through edgeq's whole integer pipeline, checked at every step against an
independent reference:

1. edgeq's float interpreter against onnxruntime on the original ``.onnx``;
2. ``edgeq.quantize`` with defaults (the TFLite int8 spec, integer-only);
3. the ``.tflite`` (int8 I/O) on LiteRT's reference kernels (``BUILTIN_REF``) against
   edgeq's integer simulator on the same integers: bit for bit;
4. the dequantized integer result against the FP32 model: SQNR in dB.

Used by the fast end-to-end op tests, the slow real-model suite and
``benchmarks/coverage.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PipelineResult:
    ops: dict
    float_max_error: float  # max |edgeq float - onnxruntime| over outputs and feeds
    float_scale: float  # max |onnxruntime| over the same
    sqnr_db: dict = field(default_factory=dict)  # per output, W8A8 simulator vs FP32
    quantize_s: float = 0.0
    build_s: float = 0.0
    bitexact: bool = False
    mismatches: dict = field(default_factory=dict)  # output -> number of differing integers
    qmodel: object = None
    export: object = None
    fp32_outputs: list = field(default_factory=list)  # onnxruntime, per eval feed
    int8_outputs: list = field(default_factory=list)  # dequantized LiteRT reference results


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    noise = float(np.sum((ref - np.asarray(got, np.float64)) ** 2))
    signal = float(np.sum(ref ** 2))
    if noise == 0.0:
        return float("inf")
    return 10.0 * np.log10(max(signal, 1e-30) / noise)


def ort_outputs(path_or_bytes, feed: dict) -> dict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    src = path_or_bytes if isinstance(path_or_bytes, (bytes, str)) else str(path_or_bytes)
    s = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(None, feed)))


def run_pipeline(onnx_source, input_shapes: dict, calib: list[dict], evals: list[dict],
                 *, check_float: bool = True, **quantize_options) -> PipelineResult:
    """``onnx_source``: a path or serialized ModelProto bytes."""
    import edgeq
    from edgeq.sdk import run_quantized

    from edgeq_tflite.tests import harness

    if isinstance(onnx_source, bytes):
        import onnx

        model = edgeq.load(onnx.load_from_string(onnx_source), input_shapes=input_shapes)
    else:
        model = edgeq.load(onnx_source, input_shapes=input_shapes)
    ops = model.graph.op_histogram()
    err, scale, refs = 0.0, 0.0, []
    for feed in evals:
        ref = ort_outputs(onnx_source, feed)
        refs.append(ref)
        if check_float:
            got = model.run(feed)
            for name, r in ref.items():
                err = max(err, float(np.abs(got[name].astype(np.float64) - r).max()))
                scale = max(scale, float(np.abs(r).max()))
    t0 = time.perf_counter()
    qm = edgeq.quantize(model, calib, **quantize_options)
    quantize_s = time.perf_counter() - t0
    result = PipelineResult(ops, err, scale, quantize_s=quantize_s, qmodel=qm)
    t0 = time.perf_counter()
    from edgeq_tflite.emit.export import export_quantized

    exp = export_quantized(qm.graph, io_dtype="int8")
    result.build_s = time.perf_counter() - t0
    result.export = exp
    noise: dict = {}
    mism: dict = {}
    result.fp32_outputs = refs
    for feed, ref in zip(evals, refs):
        deq_outs = {}
        ints = harness.integer_feeds(qm.graph, feed)
        lite = harness.litert(exp.model, ints, exp.inputs, exp.outputs, reference=True)
        sim = run_quantized(qm.graph, ints, integer_io=True)
        for spec in exp.outputs:
            name = spec.name
            mism[name] = mism.get(name, 0) + int(np.sum(lite[name] != sim[name]))
            q = spec.quant
            deq = lite[name].astype(np.float64)
            if q is not None:
                deq = (deq - q["zero_point"][0]) * q["scale"][0]
            s, n = noise.get(name, (0.0, 0.0))
            r = np.asarray(ref[name], np.float64)
            deq = deq.reshape(r.shape)
            deq_outs[name] = deq
            noise[name] = (s + float(np.sum(r ** 2)), n + float(np.sum((r - deq) ** 2)))
        result.int8_outputs.append(deq_outs)
    result.mismatches = mism
    result.bitexact = all(v == 0 for v in mism.values())
    result.sqnr_db = {k: (float("inf") if n == 0 else 10 * np.log10(max(s, 1e-30) / n))
                      for k, (s, n) in noise.items()}
    return result
