"""edgeq.compare: metric formulas on hand-made outputs, and the per-output / per-layer
report of a real quantized model against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import cnn_feeds, ort_run, save, small_cnn, sqnr_db

import edgeq
from edgeq.metrics import SQNR_CAP_DB, cosine
from edgeq.metrics import sqnr_db_from_powers as report_sqnr
from edgeq.quantize.compare import _OutputAccumulator, detect_task


def test_sqnr_and_cosine_formulas():
    assert report_sqnr(100.0, 1.0) == pytest.approx(20.0)
    # identical outputs: the same capped figure as edgeq profile reports (edgeq.metrics)
    assert report_sqnr(1.0, 0.0) == SQNR_CAP_DB
    assert cosine([1, 0], [0, 1]) == pytest.approx(0.0)
    assert cosine([1, 2], [2, 4]) == pytest.approx(1.0)
    assert cosine([1, 2], [-1, -2]) == pytest.approx(-1.0)


def test_classification_metrics():
    acc = _OutputAccumulator("y", None)
    ref1, out1 = np.array([[0.1, 0.9, 0, 0, 0, 0]]), np.array([[0.1, 0.8, 0, 0, 0, 0.05]])
    ref2, out2 = np.array([[0.6, 0.1, 0.3, 0, 0, 0]]), np.array([[0.2, 0.1, 0.7, 0, 0, 0]])
    acc.add(ref1, out1, label=1)
    acc.add(ref2, out2, label=2)
    r = acc.result()
    assert r["task"] == "classification"
    assert r["top1_agreement"] == 0.5 and r["top5_agreement"] == 1.0
    assert r["float_top1_accuracy"] == 0.5 and r["quant_top1_accuracy"] == 1.0
    sig = (ref1 ** 2).sum() + (ref2 ** 2).sum()
    noise = ((ref1 - out1) ** 2).sum() + ((ref2 - out2) ** 2).sum()
    assert r["sqnr_db"] == pytest.approx(10 * np.log10(sig / noise))
    assert r["max_abs_error"] == pytest.approx(0.4)


def test_probability_metrics():
    acc = _OutputAccumulator("p", None)
    acc.add(np.array([0.1, 0.6, 0.9, 0.4]), np.array([0.12, 0.45, 0.95, 0.41]))
    r = acc.result()
    assert r["task"] == "probability"
    assert r["decision_agreement"] == 0.75
    assert r["mean_abs_error"] == pytest.approx((0.02 + 0.15 + 0.05 + 0.01) / 4)


def test_detect_task():
    assert detect_task(np.zeros((1, 10))) == "classification"
    assert detect_task(np.array([0.2, 0.7, 0.1])) == "probability"
    assert detect_task(np.array([[-1.0, 2.0, 3.0]]).reshape(3, 1)) == "embedding"
    unit = np.arange(1.0, 33.0)[None]
    assert detect_task(unit / np.linalg.norm(unit)) == "embedding"


def test_compare_report_on_a_real_model(tmp_path):
    model = small_cnn()
    m = edgeq.load(save(model, tmp_path / "cnn.onnx"))
    qm = edgeq.quantize(m, cnn_feeds(16), progress=False, use_cache=False)
    feeds = cnn_feeds(5, seed=11)
    labels = [int(np.argmax(ort_run(model, f)["probs"])) for f in feeds]
    rep = edgeq.compare(m, qm, feeds, labels=labels, layer_samples=2)
    out = rep.outputs["probs"]
    assert rep.samples == 5 and out["samples"] == 5
    expected = sqnr_db(np.concatenate([ort_run(model, f)["probs"] for f in feeds]),
                       np.concatenate([qm.run(f)["probs"] for f in feeds]))
    assert out["sqnr_db"] == pytest.approx(expected, rel=1e-6)
    assert out["float_top1_accuracy"] == 1.0
    assert [(t, n, o) for t, n, o, *_ in rep.layers] == [
        ("x", "<input>", "Input"), ("r1", "conv1", "Conv"), ("r2", "dw", "Conv"), ("c3", "project", "Conv"),
        ("res", "residual", "Add"), ("mp", "pool", "MaxPool"), ("gap", "gap", "GlobalAveragePool"),
        ("flat", "flatten", "Flatten"), ("logits", "fc", "FullyConnected"), ("probs", "softmax", "Softmax")]
    assert all(np.isfinite(row[4]) or row[4] == float("inf") for row in rep.layers)
    worst = rep.worst_layers(3)
    assert [r[4] for r in worst] == sorted(r[4] for r in worst)
    # a saved model compares the same, with its own float graph when no model is given
    path = qm.save(tmp_path / "cnn.edgeq")
    again = edgeq.compare(None, path, feeds, per_layer=False)
    assert again.outputs["probs"]["sqnr_db"] == pytest.approx(out["sqnr_db"])
    assert again.layers == []
