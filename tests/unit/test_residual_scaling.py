"""Residual-stream channel scaling (edgeq/quantize/algorithms/residual_scaling.py): the rewritten
lowered graph computes the original model (checked against onnxruntime on the original
ONNX file), the outlier channels are actually divided down, and models without a
LayerNorm residual stream are left alone."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import cnn_feeds, ort_run, save, small_cnn, tiny_transformer, transformer_feeds
from onnx import helper, numpy_helper

import edgeq
from edgeq.errors import UsageError
from edgeq.interp.ort_backend import OrtRunner
from edgeq.quantize.rewrites.prepare import executable, lower
from edgeq.quantize.options import QuantizeOptions
from edgeq.quantize.algorithms.residual_scaling import (choose_scales, find_fc_inputs, find_segments,
                                             scale_residual_stream)

OUTLIER = 3  # the channel made ~50x larger than the others


def outlier_transformer():
    """tiny_transformer with a position table added to its embedding, and channel
    OUTLIER of the embedding table and of the FFN's output projection blown up (as
    BERT's FFN outputs are, Bondarenko et al. 2021)."""
    model = tiny_transformer()
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init).copy()
        if init.name == "emb":
            a[:, OUTLIER] *= 30.0
        elif init.name == "w2":
            a[:, OUTLIER] *= 100.0
        elif init.name == "b2":
            a[OUTLIER] += 200.0
        else:
            continue
        init.CopyFrom(numpy_helper.from_array(a, init.name))
    # a position table added to the embedding, as BERT's embeddings do
    rng = np.random.default_rng(3)
    model.graph.initializer.append(numpy_helper.from_array(rng.normal(size=(8, 16)).astype(np.float32), "pos"))
    ln0 = next(i for i, n in enumerate(model.graph.node) if n.name == "ln0")
    model.graph.node[ln0].input[0] = "e_pos"
    model.graph.node.insert(ln0, helper.make_node("Add", ["e", "pos"], ["e_pos"], name="embed_pos"))
    return model


@pytest.fixture(scope="module")
def outlier_model(tmp_path_factory):
    proto = outlier_transformer()
    return proto, edgeq.load(save(proto, tmp_path_factory.mktemp("rs") / "outlier.onnx"))


def _residual_adds(graph):
    return [s.add for s in find_segments(graph)]


def test_segments_and_layernorm_inputs_are_found(outlier_model):
    _, m = outlier_model
    low = lower(m.graph)
    segments = find_segments(low)
    # the embedding sum (Gather) and both residual Adds (FullyConnected + LayerNorm output)
    kinds = sorted(tuple(sorted(k for k, _ in s.inputs)) for s in segments)
    assert kinds == [("const", "gather"), ("fc", "layernorm"), ("fc", "layernorm")]
    # ln0 and ln1 outputs are read by FullyConnected layers and a residual Add only;
    # ln2's output goes to the pooling and is not an input to scale
    assert sorted(find_fc_inputs(low, segments)) == ["x0", "x1"]


def test_rewrite_matches_onnxruntime_on_the_original_model(outlier_model):
    proto, m = outlier_model
    low = lower(m.graph)
    feeds = transformer_feeds(6)
    scaled, key, report = scale_residual_stream(low, feeds, samples=6)
    assert key and scaled is not low
    # the embedding sum and the FFN's residual Add divide the outlier channel by a
    # large power of two (the attention's residual Add sees it only through ln0)
    assert report["embed_pos"][str(OUTLIER)] >= 8 and report["res2"][str(OUTLIER)] >= 8, report
    for add in _residual_adds(low):
        d = report[add][str(OUTLIER)]
        assert np.log2(d) == int(np.log2(d))
    sums = {add: low.node_by_name(add).outputs[0] for add in _residual_adds(low)}
    runner = OrtRunner(executable(scaled), outputs=["pooled"] + list(sums.values()))
    original = OrtRunner(executable(low), outputs=list(sums.values()))
    for feed in transformer_feeds(5, seed=7):  # not the samples D was chosen on
        ref = ort_run(proto, feed)["pooled"]
        out = runner.run(feed)
        np.testing.assert_allclose(out["pooled"], ref, rtol=1e-4, atol=1e-5)
        before = original.run(feed)
        for add, h in sums.items():
            # the stream tensor keeps its name and now holds h / D: the outlier channel
            # shrinks by exactly d, the others do not change
            d = report[add][str(OUTLIER)]
            np.testing.assert_allclose(out[h][..., OUTLIER] * d, before[h][..., OUTLIER], rtol=1e-5, atol=1e-4)
            others = [c for c in range(out[h].shape[-1]) if str(c) not in report[add]]
            np.testing.assert_allclose(out[h][..., others], before[h][..., others], rtol=1e-5, atol=1e-5)
    # the int8 stream tensors lost their outlier: max over channels / median channel max
    for add in ("embed_pos", "res2"):
        h = sums[add]
        v = np.abs(np.concatenate([runner.run(f)[h].reshape(-1, 16) for f in feeds]))
        w = np.abs(np.concatenate([original.run(f)[h].reshape(-1, 16) for f in feeds]))
        assert v.max() / np.median(v.max(0)) < 0.25 * w.max() / np.median(w.max(0))


def test_choose_scales_is_one_inside_the_target_and_powers_of_two_above():
    m = np.array([1.0, 2.0, 1.5, 1.2, 40.0, 0.5, 1.8, 1.1, 1.3, 1.9])
    d = choose_scales(m, quantile=0.8)
    target = np.quantile(m, 0.8)
    assert np.all(d[m <= target] == 1)
    assert d[4] == 32.0 and m[4] / d[4] <= target  # 2^ceil(log2(40 / 1.92))
    assert choose_scales(m, quantile=0.8, alpha=0.5)[4] == 8.0  # 2^ceil(0.5 · 4.38)
    assert np.all(choose_scales(np.zeros(4)) == 1)


def test_models_without_a_layernorm_stream_are_untouched(tmp_path):
    m = edgeq.load(save(small_cnn(), tmp_path / "cnn.onnx"))
    low = lower(m.graph)
    out, key, report = scale_residual_stream(low, cnn_feeds(2))
    assert out is low and key == "" and report == {}


def test_option_values_and_auto_default():
    assert QuantizeOptions.from_kwargs({}).scales_residual() is False  # int16 stream: not needed
    assert QuantizeOptions.from_kwargs({"int16_residual": False}).scales_residual() is True
    assert QuantizeOptions.from_kwargs({"int16_residual": False, "residual_scaling": False}).scales_residual() is False
    assert QuantizeOptions.from_kwargs({"residual_scaling": True}).scales_residual() is True
    with pytest.raises(UsageError, match="residual_scaling"):
        QuantizeOptions.from_kwargs({"residual_scaling": "yes"})


def test_quantize_strict_int8_uses_it_and_is_more_accurate(outlier_model, tmp_path):
    _, m = outlier_model
    calib, evals = transformer_feeds(16), transformer_feeds(8, seed=5)
    low = lower(m.graph)
    sums = {add: low.node_by_name(add).outputs[0] for add in _residual_adds(low)}
    refs = [OrtRunner(executable(low), outputs=list(sums.values())).run(f) for f in evals]

    def stream_sqnr(qm, add):
        """SQNR of the int8 residual sum ``add`` in the integer simulator, in the
        original units (times D) and over the ordinary channels: the outlier channel
        holds most of the energy, the others are what a per-tensor int8 scale loses."""
        h = sums[add]
        t = qm.tensor_map.get(h, h)
        d = np.ones(16)
        for c, v in qm.report["residual_scaling"].get(add, {}).items():
            d[int(c)] = v
        sig = err = 0.0
        for f, ref in zip(evals, refs):
            got = qm.graph.tensors[t].quant.dequantize(qm.run(f, outputs=[t])[t]) * d
            sig += float(np.sum(np.delete(ref[h], OUTLIER, -1) ** 2))
            err += float(np.sum(np.delete(got - ref[h], OUTLIER, -1) ** 2))
        return 10 * np.log10(sig / err)

    plain = edgeq.quantize(m, calib, progress=False, cache_dir=str(tmp_path), int16_residual=False,
                           residual_scaling=False)
    scaled = edgeq.quantize(m, calib, progress=False, cache_dir=str(tmp_path), int16_residual=False)
    assert plain.report["residual_scaling"] == {} and scaled.report["residual_scaling"]
    for h in sums.values():  # the stream stays int8
        assert scaled.graph.tensors[scaled.tensor_map.get(h, h)].dtype == np.int8
    for add in ("embed_pos", "res2"):
        assert stream_sqnr(scaled, add) > stream_sqnr(plain, add) + 10.0
    # another scaling gives other statistics: the calibration cache holds both
    assert len(list((tmp_path / "calibration").glob("*.npz"))) == 2
