"""MobileNetV2 with automatic int16 (slow): at least as good as int8 weight-only
quantization, the bar of the quantization issue's table.

The weight-only reference is the one the bar names: int8 per-channel weights rounded to
nearest (full range), activations in float, run by onnxruntime. Both are scored on the
whole evaluation split against the float model; the budget is checked by edgeq on
calibration data only.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

BUDGET = "sqnr:30"


def _metrics(refs, outs):
    agreement = float(np.mean([np.argmax(r["logits"]) == np.argmax(o["logits"]) for r, o in zip(refs, outs)]))
    sig = sum(float(np.sum(np.asarray(r["logits"], np.float64) ** 2)) for r in refs)
    noise = sum(float(np.sum((np.asarray(o["logits"], np.float64) - r["logits"]) ** 2))
                for r, o in zip(refs, outs))
    return agreement, 10 * np.log10(sig / noise)


def _weight_only_nearest(qm):
    """The lowered float graph with every Conv/FullyConnected weight replaced by its int8
    round-to-nearest per-channel version (dequantized)."""
    from edgeq.interp.ort_backend import OrtRunner
    from edgeq.quantize.arith import scheme
    from edgeq.quantize.rewrites.prepare import executable

    g = qm.lowered_graph.copy()
    replaced = 0
    for n in g.nodes:
        if n.op_type in ("Conv", "FullyConnected"):
            w = g.const(n.inputs[1])
            p = scheme.weight_params(w, 0, "max")
            n.inputs[1] = g.add_constant(n.inputs[1] + "_rtn", p.dequantize(scheme.quantize_weight(w, p))
                                         .astype(np.float32))
            replaced += 1
    assert replaced == 53  # 52 convolutions and the classifier
    return OrtRunner(executable(g))


def test_auto_mixed_is_at_least_as_good_as_weight_only_int8():
    import edgeq
    from edgeq import zoo
    from edgeq.interp.ort_backend import OrtRunner

    try:
        m = edgeq.load(zoo.get("mobilenet-v2"))
    except edgeq.EdgeqError as exc:
        pytest.skip(f"zoo model unavailable: {exc}")
    calib = zoo.dataset("mobilenet-v2", "calib", n=64)
    feeds = zoo.feeds("mobilenet-v2", "eval")
    runner = OrtRunner(m.graph)
    refs = [runner.run(f) for f in feeds]

    qa = edgeq.quantize(m, calib, progress=False, auto_mixed=BUDGET)
    assert qa.report["auto_mixed"]["met"]
    g = qa.graph
    assert qa.report["int16_nodes"] and qa.report["float_nodes"] == []
    assert all(g.tensors[n.outputs[0]].dtype.kind != "f" for n in g.nodes if n.op_type != "Dequantize")
    auto = _metrics(refs, [qa.run(f) for f in feeds])

    wo = _weight_only_nearest(qa)
    weight_only = _metrics(refs, [wo.run(f) for f in feeds])
    assert auto[0] >= weight_only[0], (auto, weight_only)
    assert auto[1] >= weight_only[1], (auto, weight_only)
