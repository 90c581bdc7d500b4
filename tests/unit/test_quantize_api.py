"""edgeq.quantize end to end: options, bad calibration data, the statistics cache,
int16 overrides, automatic mixed precision, sensitivity; GPTQ against a direct
implementation of the published algorithm; equalization preserves the function."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import (cnn_feeds, ort_run, save, small_cnn, sqnr_db, tiny_transformer,
                           transformer_feeds)

import edgeq
from edgeq.errors import CalibrationError, UsageError
from edgeq.interp.float_interp import run_graph
from edgeq.quantize.algorithms import gptq
from edgeq.quantize.arith import scheme


@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory):
    return edgeq.load(save(small_cnn(), tmp_path_factory.mktemp("m") / "cnn.onnx"))


@pytest.fixture(scope="module")
def tr_model(tmp_path_factory):
    return edgeq.load(save(tiny_transformer(), tmp_path_factory.mktemp("t") / "tr.onnx"))


def test_quantize_is_callable_as_module_and_function(cnn_model, tmp_path):
    import edgeq.quantize as package

    qm = package(cnn_model, cnn_feeds(4), progress=False, cache_dir=str(tmp_path))
    assert type(qm).__name__ == "QuantizedModel"
    assert edgeq.quantize is package or callable(edgeq.quantize)


def test_bad_options(cnn_model):
    with pytest.raises(UsageError, match="unknown quantize option.*'methd'"):
        edgeq.quantize(cnn_model, cnn_feeds(2), methd="mse")
    with pytest.raises(UsageError, match="bad regular expression"):
        edgeq.quantize(cnn_model, cnn_feeds(2), int16=["(unclosed"])
    with pytest.raises(UsageError, match="weight_rounding"):
        edgeq.quantize(cnn_model, cnn_feeds(2), weight_rounding="stochastic")
    with pytest.raises(UsageError, match="quantize\\(\\) takes a Model"):
        edgeq.quantize(42, cnn_feeds(2))


def test_bad_calibration_data(cnn_model, tmp_path):
    good = cnn_feeds(2)
    nan = [dict(good[0]), dict(good[1])]
    nan[1]["x"] = nan[1]["x"].copy()
    nan[1]["x"][0, 0, 0, 0] = np.nan
    with pytest.raises(CalibrationError, match="NaN/Inf"):
        edgeq.quantize(cnn_model, nan, progress=False, cache_dir=str(tmp_path))
    with pytest.raises(CalibrationError, match="shape \\(1, 3, 8, 8\\).*expects \\(1, 3, 16, 16\\)"):
        edgeq.quantize(cnn_model, [{"x": np.zeros((1, 3, 8, 8), np.float32)}], progress=False)
    with pytest.raises(CalibrationError, match="empty"):
        edgeq.quantize(cnn_model, [], progress=False)
    with pytest.raises(CalibrationError, match="missing \\['x'\\]"):
        edgeq.quantize(cnn_model, [{"y": np.zeros((1, 3, 16, 16), np.float32)}], progress=False)


def test_statistics_are_cached_and_reused(cnn_model, tmp_path):
    feeds = cnn_feeds(6)
    a = edgeq.quantize(cnn_model, feeds, progress=False, cache_dir=str(tmp_path))
    b = edgeq.quantize(cnn_model, feeds, progress=False, cache_dir=str(tmp_path), method="percentile")
    c = edgeq.quantize(cnn_model, feeds, progress=False, cache_dir=str(tmp_path))
    assert not a.report["timings"]["calibration_cached"]
    assert b.report["timings"]["calibration_cached"] and c.report["timings"]["calibration_cached"]
    assert len(list((tmp_path / "calibration").glob("*.npz"))) == 1
    for name, t in a.graph.tensors.items():
        if t.data is not None:
            np.testing.assert_array_equal(t.data, c.graph.tensors[name].data)
    # other data -> other statistics
    edgeq.quantize(cnn_model, cnn_feeds(6, seed=3), progress=False, cache_dir=str(tmp_path))
    assert len(list((tmp_path / "calibration").glob("*.npz"))) == 2


def test_int16_overrides(cnn_model, tmp_path):
    qm = edgeq.quantize(cnn_model, cnn_feeds(6), progress=False, cache_dir=str(tmp_path),
                        int16=["^dw$"], int16_ops=["FullyConnected"])
    assert qm.report["int16_nodes"] == ["dw", "fc"]
    g = qm.graph
    assert g.tensors[g.node_by_name("dw").outputs[0]].dtype == np.int16
    assert g.tensors[g.node_by_name("conv1").outputs[0]].dtype == np.int8


def test_methods_all_build_accurate_models(cnn_model, tmp_path):
    model = small_cnn()
    feeds = cnn_feeds(4, seed=21)
    for method in ("minmax", "percentile", "mse", "entropy"):
        qm = edgeq.quantize(cnn_model, cnn_feeds(12), progress=False, cache_dir=str(tmp_path), method=method)
        scores = [sqnr_db(ort_run(model, f)["probs"], qm.run(f)["probs"]) for f in feeds]
        assert min(scores) > 15, method


def test_auto_mixed_reaches_the_budget(tr_model, tmp_path):
    base = edgeq.quantize(tr_model, transformer_feeds(16), progress=False, cache_dir=str(tmp_path))
    qm = edgeq.quantize(tr_model, transformer_feeds(16), progress=False, cache_dir=str(tmp_path),
                        auto_mixed=45.0, eval_samples=8)
    info = qm.report["auto_mixed"]
    assert info["budget"] == "sqnr >= 45 dB"
    assert info["steps"][0]["promoted"] == 0
    scores = [s["score"] for s in info["steps"]]
    if info["met"]:
        assert info["score"] >= 45.0
    assert len(qm.report["int16_nodes"]) > len(base.report["int16_nodes"])
    assert scores[-1] > scores[0]


def test_sensitivity_ranks_layers(cnn_model, tmp_path):
    result = edgeq.sensitivity(cnn_model, cnn_feeds(8), samples=4, progress=False, cache_dir=str(tmp_path))
    assert result.rows and result.samples == 4
    dbs = [r[3] for r in result.rows]
    assert dbs == sorted(dbs)
    assert {r[0] for r in result.rows} >= {"conv1", "dw", "project", "fc"}
    assert min(dbs) >= result.all_int8_db - 1e-6  # one layer alone never hurts more than all of them


def _gptq_reference(w, h, scale, damp=gptq.DAMP):
    """GPTQ Algorithm 1 (one column at a time, no blocking) with the floor/ceil bound."""
    w = w.astype(np.float64).copy()
    h = h.astype(np.float64).copy()
    k = h.shape[0]
    dead = np.diag(h) <= 0
    h[np.arange(k), np.arange(k)] += damp * max(np.mean(np.diag(h)), 1e-12) + dead
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    lo = np.floor(w / scale[:, None])
    q = np.zeros_like(w)
    for i in range(k):
        qi = np.clip(np.clip(scheme.round_half_away(w[:, i] / scale), lo[:, i], lo[:, i] + 1), -127, 127)
        q[:, i] = qi
        err = (w[:, i] - qi * scale) / u[i, i]
        w[:, i + 1:] -= np.outer(err, u[i, i + 1:])
    return q


def test_gptq_matches_reference_and_beats_rounding():
    rng = np.random.default_rng(0)
    k, o, n = 70, 12, 400
    x = rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) * 0.3  # correlated inputs
    w = rng.normal(size=(o, k))
    h = x.T @ x / n
    scale = np.abs(w).max(axis=1) / 127
    q = gptq.gptq_round(w[None], h[None], scale[None])[0]
    np.testing.assert_array_equal(q, _gptq_reference(w, h, scale))
    rtn = np.clip(scheme.round_half_away(w / scale[:, None]), -127, 127)
    assert np.all(np.abs(q - w / scale[:, None]) < 1 + 1e-9)  # never beyond floor/ceil
    err = lambda qq: np.sum(((qq * scale[:, None] - w) @ x.T) ** 2)  # noqa: E731
    assert err(q) < 0.8 * err(rtn)


def test_patch_matrix_matches_convolution():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 7, 6)).astype(np.float32)
    w = rng.normal(size=(6, 2, 3, 2)).astype(np.float32)
    geo = {"op": "conv", "k": [3, 2], "group": 2, "pads": [1, 0, 2, 1], "strides": [2, 1], "dilations": [1, 2]}
    from onnx import helper

    from _quant_models import make_model
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 2], group=2,
                                         pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2])],
                       inputs={"x": x.shape}, outputs={"y": None}, initializers={"w": w})
    ref = ort_run(model, {"x": x})["y"]  # [N, O, Ho, Wo]
    p = gptq.patch_matrix(x, geo)  # [g, K, M]
    og = w.shape[0] // 2
    y = np.stack([w[g * og:(g + 1) * og].reshape(og, -1) @ p[g] for g in range(2)])  # [g, og, M]
    n, _, ho, wo = ref.shape
    y = y.reshape(2, og, n, ho, wo).transpose(2, 0, 1, 3, 4).reshape(n, 2 * og, ho, wo)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


def test_equalization_preserves_the_float_function(cnn_model, tmp_path):
    from edgeq.calibrate.collect import collect
    from edgeq.data import from_iterable
    from edgeq.quantize.algorithms.equalize import equalize
    from edgeq.quantize.rewrites.prepare import lower

    lowered = lower(cnn_model.graph)
    calib = collect(lowered, from_iterable(cnn_feeds(8)), model_hash="t", use_cache=False, progress=False)
    eq, calib2, overrides, report = equalize(lowered, calib)
    assert report and set(overrides) == set(report)
    for feed in cnn_feeds(3, seed=5):
        np.testing.assert_allclose(run_graph(eq, feed)["probs"], run_graph(lowered, feed)["probs"],
                                   rtol=1e-4, atol=1e-6)
    t = next(iter(report))
    r_before = np.maximum(np.abs(calib.channel_min[t]), np.abs(calib.channel_max[t]))
    r_after = np.maximum(np.abs(calib2.channel_min[t]), np.abs(calib2.channel_max[t]))
    assert (r_after.min() / r_after.max()) > (r_before.min() / r_before.max())
