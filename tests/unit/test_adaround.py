"""AdaRound: im2col rows against onnxruntime's Conv, the optimiser against brute force
and round-to-nearest on held-out data, and the graph driver end to end."""

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, run_ir  # noqa: E402

from edgeq.errors import QuantizationError  # noqa: E402
from edgeq.ir.graph import Node, Tensor  # noqa: E402
from edgeq.ir.onnx_import import import_onnx  # noqa: E402
from edgeq.ir.pipeline import canonicalize  # noqa: E402
from edgeq.quantize.arith import scheme  # noqa: E402
from edgeq.quantize.algorithms.adaround import (AdaRoundConfig, LayerMoments, adaround_graph,  # noqa: E402
                                     conv_rows, optimize_rounding)
from edgeq.types import QDType, QuantParams  # noqa: E402

RNG = np.random.default_rng(0)
FAST = AdaRoundConfig(iters=300)


def f32(a):
    return np.asarray(a, np.float32)


@pytest.mark.parametrize("attrs, cin, cout, group", [
    (dict(kernel_shape=[3, 3], pads=[1, 0, 2, 1], strides=[2, 1]), 3, 4, 1),
    (dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], dilations=[2, 2]), 4, 4, 4),  # depthwise
    (dict(kernel_shape=[2, 3], pads=[0, 1, 0, 1], strides=[1, 2]), 6, 4, 2),    # grouped
    (dict(kernel_shape=[1, 1]), 5, 3, 1),
])
def test_conv_rows_reproduce_onnxruntime_conv(attrs, cin, cout, group):
    w = f32(RNG.standard_normal((cout, cin // group) + tuple(attrs["kernel_shape"])))
    x = f32(RNG.standard_normal((2, cin, 7, 9)))
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"], group=group, **attrs)],
                       inputs={"x": x.shape}, outputs={"y": None}, initializers={"w": w})
    y = ort_run(model, {"x": x})["y"]
    node = Node("c", "Conv", ["x", "w"], ["y"], dict(attrs, group=group))
    rows = conv_rows(node, x, w.shape)  # [g, K, N*OH*OW] in (n, oh, ow) order
    wg = w.reshape(group, cout // group, -1)
    got = np.matmul(wg, rows).reshape(cout, x.shape[0], *y.shape[2:]).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(got, y, rtol=1e-5, atol=1e-5)


class Source:
    """Correlated inputs (like neighbouring pixels) with a non-zero mean: ``[K, rows]``."""

    def __init__(self, k, seed):
        self.rng = np.random.default_rng(seed)
        self.mix = self.rng.standard_normal((k, k)) / np.sqrt(k) + 0.8 * np.ones((k, k)) / k

    def rows(self, n):
        return (self.mix @ self.rng.standard_normal((self.mix.shape[0], n)) + 0.5).astype(np.float32)


def correlated(k, rows, rng):
    return Source(k, int(rng.integers(1 << 30))).rows(rows)


def moments_of(xf, xq, groups=1, keep_rows=False):
    m = LayerMoments(groups, xf.shape[1], keep_rows=keep_rows)
    m.add(xf, xq)
    m.flush()
    return m


def output_mse(w_hat, w, xf, xq):
    return float(np.mean((w.astype(np.float64) @ xf - w_hat.astype(np.float64) @ xq) ** 2))


def test_optimizer_lands_near_the_brute_force_optimum():
    """8 weights per channel: all 256 floor/ceil choices can be tried. AdaRound is a
    relaxation, not an exhaustive search: it must land in the best few percent, and
    never below round-to-nearest."""
    rng = np.random.default_rng(1)
    w = f32(rng.uniform(-1, 1, (12, 8)))
    s = (np.abs(w).max(axis=1) / 127 * 30).astype(np.float32)  # coarse steps: rounding matters
    x = correlated(8, 4000, rng)
    q, stats = optimize_rounding(w, s, moments_of(x[None], x[None]), FAST)
    base = np.floor(w / s[:, None])
    assert np.all((q == base) | (q == base + 1))
    combos = np.array(list(itertools.product((0, 1), repeat=8)))
    ranks = []
    for c in range(12):
        errs = [output_mse(s[c] * (base[c] + combo)[None], w[c:c + 1], x, x) for combo in combos]
        got = output_mse(s[c] * q[c:c + 1].astype(np.float64), w[c:c + 1], x, x)
        rtn = output_mse(s[c] * np.round(w[c:c + 1] / s[c]), w[c:c + 1], x, x)
        assert got <= rtn * (1 + 1e-6)
        ranks.append(np.sum(np.array(errs) < got * (1 - 1e-9)))
    assert np.median(ranks) <= 2 and max(ranks) <= 8, ranks
    assert stats["err_adaround"] < stats["err_rtn"]


def test_better_than_round_to_nearest_on_held_out_data():
    rng = np.random.default_rng(2)
    k, o = 48, 16
    w = f32(rng.standard_normal((o, k)) * np.logspace(-1, 0, o)[:, None])
    params = scheme.weight_params(w, 0, "max")
    source = Source(k, 3)
    train, test = source.rows(8000), source.rows(8000)
    q, stats = optimize_rounding(w, params.scale, moments_of(train[None], train[None]), FAST)
    rtn = scheme.quantize_weight(w, params)
    assert q.dtype == np.int8 and np.all(np.abs(q.astype(int) - (w / params.scale[:, None])) < 1)
    mse_rtn = output_mse(params.dequantize(rtn), w, test, test)
    mse_ada = output_mse(params.dequantize(q), w, test, test)
    # a random 48-input layer gains what cancelling errors along its few dominant input
    # directions (the mean, the common mode) gives: about 10-15 %
    assert mse_ada < 0.92 * mse_rtn
    # the reported (normalised) errors are the real ones, up to the normalisation
    ratio = stats["err_adaround"] / stats["err_rtn"]
    train_ratio = output_mse(params.dequantize(q), w, train, train) / \
        output_mse(params.dequantize(rtn), w, train, train)
    assert ratio == pytest.approx(train_ratio, rel=0.2)


def test_asymmetric_reconstruction_absorbs_upstream_error():
    """x_q = x_f + a systematic shift: rounding against the float output corrects part of it."""
    rng = np.random.default_rng(4)
    k, o = 32, 8
    w = f32(rng.standard_normal((o, k)))
    params = scheme.weight_params(w, 0, "max")
    source = Source(k, 5)
    xf = source.rows(6000)
    offset = f32(0.02 * rng.standard_normal((k, 1)))  # a per-channel offset upstream
    xq = xf + offset
    q_sym, _ = optimize_rounding(w, params.scale, moments_of(xf[None], xf[None]), FAST)
    q_asym, _ = optimize_rounding(w, params.scale, moments_of(xf[None], xq[None]), FAST)
    fresh = source.rows(6000)
    shifted = fresh + offset
    err = lambda q: output_mse(params.dequantize(q), w, fresh, shifted)  # noqa: E731
    assert err(q_asym) < err(q_sym)


def test_rows_and_moments_are_the_same_objective():
    """Fewer rows than inputs: the driver keeps the rows instead of the moments. Both
    forms give the same gradient and errors, and both beat round-to-nearest."""
    from edgeq.quantize.algorithms.adaround import _Objective

    rng = np.random.default_rng(6)
    w = f32(rng.standard_normal((4, 40)))
    params = scheme.weight_params(w, 0, "max")
    xf = correlated(40, 30, rng)
    xq = xf + f32(0.01 * rng.standard_normal(xf.shape))
    wg = w.astype(np.float64)[None]
    s = params.scale.astype(np.float64).reshape(1, 4, 1)
    base = np.floor(wg / s)
    objectives = [_Objective(wg, s, base, moments_of(xf[None], xq[None], keep_rows=keep), np.ones((1, 4)))
                  for keep in (True, False)]
    h = f32(rng.uniform(0, 1, wg.shape))
    g_rows, g_mom = (o.grad(h, np.empty_like(h)) for o in objectives)
    np.testing.assert_allclose(g_rows, g_mom, rtol=1e-4, atol=1e-6 * np.abs(g_mom).max())
    q = base + (h > 0.5)
    np.testing.assert_allclose(objectives[0].error(q), objectives[1].error(q), rtol=1e-6)
    direct = np.sum((wg[0] @ xf - (s[0] * q[0]) @ xq) ** 2, axis=1) / 30
    np.testing.assert_allclose(objectives[0].error(q)[0], direct, rtol=1e-6)
    for keep in (True, False):
        _, stats = optimize_rounding(w, params.scale, moments_of(xf[None], xq[None], keep_rows=keep), FAST)
        assert stats["err_adaround"] < 0.9 * stats["err_rtn"]


def test_grouped_layer_and_weights_past_the_int8_range():
    rng = np.random.default_rng(7)
    w = f32(rng.standard_normal((6, 1, 3, 3)))  # depthwise, 6 channels of 9 taps
    scale = (np.abs(w).reshape(6, -1).max(axis=1) / 127 * 0.5).astype(np.float32)  # clips half
    x = np.stack([correlated(9, 3000, rng) for _ in range(6)])
    q, _ = optimize_rounding(w, scale, moments_of(x, x, groups=6), FAST)
    ws = w / scale[:, None, None, None]
    assert np.all(q[ws >= 127.5] == 127) and np.all(q[ws <= -127.5] == -127)
    inside = np.abs(ws) < 126
    assert np.all(np.abs(q[inside] - ws[inside]) < 1)


# -- the graph driver ------------------------------------------------------------------
def small_cnn():
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["a1"]),
             helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c2", "zero", "six"], ["a2"]),
             helper.make_node("Conv", ["a2", "w3"], ["c3"]),
             helper.make_node("GlobalAveragePool", ["c3"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], transB=1)]
    rng = np.random.default_rng(8)
    inits = {"w1": f32(rng.standard_normal((8, 3, 3, 3)) * 0.5), "b1": f32(rng.standard_normal(8) * 0.1),
             "w2": f32(rng.standard_normal((8, 1, 3, 3))), "b2": f32(rng.standard_normal(8) * 0.1),
             "w3": f32(rng.standard_normal((12, 8, 1, 1)) * 0.3),
             "w4": f32(rng.standard_normal((5, 12))), "b4": f32(rng.standard_normal(5)),
             "zero": f32(0), "six": f32(6)}
    model = make_model(nodes, inputs={"x": (1, 3, 10, 10)}, outputs={"y": None}, initializers=inits)
    return model, canonicalize(import_onnx(model))


def smooth_images(n, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 3, 5, 5))
    return [{"x": f32(np.kron(b, np.ones((2, 2)))[None] + 0.1 * rng.standard_normal((1, 3, 10, 10)))}
            for b in base]


def with_weights(graph, weights):
    g = graph.copy()
    for name, (q, p) in weights.items():
        g.tensors[name] = Tensor(name, np.float32, q.shape, p.dequantize(q))
    return g


def rtn(graph, params_fn):
    out = {}
    for n in graph.nodes:
        if n.op_type in ("Conv", "FullyConnected"):
            p = params_fn(n)
            out[n.inputs[1]] = (scheme.quantize_weight(graph.const(n.inputs[1]), p), p)
    return out


def coarse_params(graph):
    """int8 params with 5x coarser steps, so that rounding decisions matter in a tiny model."""
    def fn(node):
        p = scheme.weight_params(graph.const(node.inputs[1]), 0, "max")
        return QuantParams(p.scale * 5, p.zero_point, QDType.INT8, 0)
    return fn


def test_graph_driver_beats_round_to_nearest_on_held_out_samples():
    model, g = small_cnn()
    params = coarse_params(g)
    res = adaround_graph(g, smooth_images(24, 0), params, cfg=AdaRoundConfig(iters=300))
    convs = [n for n in g.nodes if n.op_type == "Conv"]
    layers = [n for n in g.nodes if n.op_type in ("Conv", "FullyConnected")]
    assert sorted(res.weights) == sorted(n.inputs[1] for n in layers)
    assert all(q.dtype == np.int8 for q, _ in res.weights.values())
    # the classifier head sees 24 rows for 12 inputs: optimised; convs see hundreds
    assert all("err_adaround" in res.layers[n.name] for n in convs)
    test = smooth_images(16, 1)
    ref = np.concatenate([ort_run(model, f)["y"] for f in test])
    def err(weights):  # noqa: E306
        return np.mean((np.concatenate([run_ir(with_weights(g, weights), f)["y"] for f in test]) - ref) ** 2)
    assert err(res.weights) < 0.7 * err(rtn(g, params))
    # deterministic
    again = adaround_graph(g, smooth_images(24, 0), params, cfg=AdaRoundConfig(iters=300))
    assert all(np.array_equal(again.weights[k][0], v[0]) for k, v in res.weights.items())


def test_graph_driver_with_quantized_activations_and_too_few_rows():
    _, g = small_cnn()
    params = coarse_params(g)
    act = {n.outputs[0]: QuantParams(np.float32(0.05), 0, QDType.INT8) for n in g.nodes}
    act[g.inputs[0]] = QuantParams(np.float32(0.03), 0, QDType.INT8)
    res = adaround_graph(g, smooth_images(6, 0), params, act_params=act,
                         cfg=AdaRoundConfig(iters=50, min_rows=1.0))
    fc = next(n for n in g.nodes if n.op_type == "FullyConnected")
    assert "6 rows for 12 inputs" in res.layers[fc.name]["skipped"]
    q, p = res.weights[fc.inputs[1]]
    np.testing.assert_array_equal(q, scheme.quantize_weight(g.const(fc.inputs[1]), p))
    assert res.report()["layers"] == 3


def test_driver_errors_name_the_problem():
    _, g = small_cnn()
    with pytest.raises(QuantizationError, match="needs calibration samples"):
        adaround_graph(g, [], coarse_params(g))

    def shifted(node):
        p = scheme.weight_params(g.const(node.inputs[1]), 0, "max")
        return QuantParams(p.scale, np.ones_like(p.zero_point), QDType.INT8, 0)
    with pytest.raises(QuantizationError, match="must be symmetric"):
        adaround_graph(g, smooth_images(2, 0), shifted, cfg=AdaRoundConfig(iters=5))


# -- through edgeq.quantize (weight_rounding="adaround") ------------------------------------
def test_quantize_with_adaround_stores_its_weights(tmp_path):
    import edgeq
    from _quant_models import cnn_feeds, save
    from _quant_models import small_cnn as cnn_proto
    from _quant_models import sqnr_db

    model = edgeq.load(save(cnn_proto(), tmp_path / "cnn.onnx"))
    calib, held_out = cnn_feeds(16, seed=3), cnn_feeds(8, seed=21)
    common = dict(progress=False, cache_dir=str(tmp_path), equalize=False)
    ada = edgeq.quantize(model, calib, weight_rounding="adaround", adaround_iters=100, **common)
    rtn = edgeq.quantize(model, calib, weight_rounding="nearest", **common)
    rep = ada.report["adaround"]
    # three convs and the classifier (16 rows for its 8 inputs)
    assert rep["layers"] == 4 and rep["skipped"] == {} and rep["samples"] == 16
    assert rep["mean_error_ratio"] < 1
    changed = 0
    for node in ada.graph.nodes:
        if node.op_type != "Conv":
            continue
        t = ada.graph.tensors[node.inputs[1]]
        w = ada.lowered_graph.const(node.inputs[1])
        ws = w / t.quant.scale.reshape(-1, 1, 1, 1)
        assert t.dtype == np.int8 and np.all(np.abs(t.data - ws) < 1)  # floor or ceil
        changed += int(np.sum(t.data != rtn.graph.tensors[node.inputs[1]].data))
    assert changed > 0
    # the generic bias correction left AdaRound's layers alone (they have their own)
    assert not set(ada.report["bias_correction"]) & {"conv1", "dw", "project", "fc"}
    ref = [model.run(f)["probs"] for f in held_out]
    s_ada = np.mean([sqnr_db(r, ada.run(f)["probs"]) for r, f in zip(ref, held_out)])
    s_rtn = np.mean([sqnr_db(r, rtn.run(f)["probs"]) for r, f in zip(ref, held_out)])
    # this model's error is its activations' (weights are not its bottleneck): AdaRound
    # must build a model as accurate as round-to-nearest's, not a broken one
    assert s_ada > s_rtn - 2.0 and s_ada > 40


def test_quantize_with_adaround_on_a_transformer(tmp_path):
    import edgeq
    from _quant_models import save, tiny_transformer, transformer_feeds

    model = edgeq.load(save(tiny_transformer(), tmp_path / "tr.onnx"))
    qm = edgeq.quantize(model, transformer_feeds(12), progress=False, cache_dir=str(tmp_path),
                        weight_rounding="adaround", adaround_iters=50)
    fcs = [n for n in qm.graph.nodes if n.op_type == "FullyConnected"]
    assert fcs and qm.report["adaround"]["layers"] + len(qm.report["adaround"]["skipped"]) == len(fcs)
    f = transformer_feeds(1, seed=9)[0]
    ref, out = model.run(f)["pooled"], qm.run(f)["pooled"]
    assert np.dot(ref.ravel(), out.ravel()) / (np.linalg.norm(ref) * np.linalg.norm(out)) > 0.98


def test_adaround_options_and_missing_data(tmp_path):
    import edgeq
    from _quant_models import cnn_feeds, save, small_cnn as cnn_proto

    from edgeq.errors import UsageError
    from edgeq.quantize.options import QuantizeOptions
    from edgeq.quantize.pipeline.builder import Builder

    model = edgeq.load(save(cnn_proto(), tmp_path / "cnn.onnx"))
    with pytest.raises(UsageError, match="adaround_samples and adaround_iters must be >= 1"):
        edgeq.quantize(model, cnn_feeds(2), weight_rounding="adaround", adaround_samples=0)
    qm = edgeq.quantize(model, cnn_feeds(4), progress=False, cache_dir=str(tmp_path))
    assert qm.report["adaround"] == {}  # not the default
    from edgeq.calibrate.collect import collect
    from edgeq.quantize.rewrites.prepare import Hints, lower
    from edgeq.targets import default_quant_spec

    lowered = lower(model.graph)
    calib = collect(lowered, edgeq.data.from_iterable(cnn_feeds(4)), model_hash=model.sha256,
                    use_cache=False, progress=False)
    opts = QuantizeOptions.from_kwargs({"weight_rounding": "adaround", "progress": False})
    with pytest.raises(QuantizationError, match="needs the calibration data itself"):
        Builder(model.graph, lowered, Hints(lowered), calib, default_quant_spec(), opts)
