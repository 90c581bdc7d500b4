"""Cross-layer equalization (edgeq/quantize/algorithms/equalize.py), the one CLE of the quantizer:
channels that are always zero or never read get finite scales, the float function is
kept, and a clamp that does not commute with the scaling (ReLU6) bounds the scale."""

from __future__ import annotations

import numpy as np
from onnx import helper

import edgeq
from _quant_models import save
from edgeq.calibrate.collect import collect
from edgeq.data import from_iterable
from edgeq.interp.float_interp import run_graph
from edgeq.quantize.algorithms.equalize import MAX_SCALE, equalize
from edgeq.quantize.rewrites.prepare import lower
from onnx_helpers import make_model

RNG = np.random.default_rng(0)


def _two_convs(clip_max: float | None):
    """Conv(3->4) -> Relu or Clip(0, clip_max) -> Conv(4->2); channel 2 of the middle
    tensor is always zero (its filter is zero), channel 1 is never read."""
    w1 = (RNG.standard_normal((4, 3, 1, 1)) * np.array([1e-3, 1.0, 1.0, 30.0])[:, None, None, None]).astype(np.float32)
    w1[2] = 0.0
    w2 = RNG.standard_normal((2, 4, 1, 1)).astype(np.float32)
    w2[:, 1] = 0.0
    act = (helper.make_node("Relu", ["c1"], ["a1"]) if clip_max is None else
           helper.make_node("Clip", ["c1", "lo", "hi"], ["a1"]))
    init = {"w1": w1, "w2": w2}
    if clip_max is not None:
        init.update(lo=np.float32(0.0), hi=np.float32(clip_max))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"]), act, helper.make_node("Conv", ["a1", "w2"], ["y"])]
    return make_model(nodes, inputs={"x": (1, 3, 4, 4)}, outputs={"y": None}, initializers=init)


def _equalized(tmp_path, clip_max):
    model = edgeq.load(save(_two_convs(clip_max), tmp_path / "m.onnx"))
    lowered = lower(model.graph)
    feeds = [{"x": RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)} for _ in range(8)]
    calib = collect(lowered, from_iterable(feeds), model_hash="t", use_cache=False, progress=False)
    return lowered, equalize(lowered, calib), feeds


def test_dead_and_unread_channels_stay_finite_and_the_function_is_kept(tmp_path):
    lowered, (eq, _calib, _overrides, report), feeds = _equalized(tmp_path, None)
    assert report, "the badly scaled pair was not equalized"
    assert all(1.0 <= s <= MAX_SCALE for s in report.values())
    for t in eq.constants():
        assert np.all(np.isfinite(t.data)), t.name
    for feed in feeds:
        np.testing.assert_allclose(run_graph(eq, feed)["y"], run_graph(lowered, feed)["y"], rtol=1e-4, atol=1e-5)


def test_relu6_bounds_the_scale_and_keeps_the_function(tmp_path):
    lowered, (eq, _calib, _overrides, _report), feeds = _equalized(tmp_path, 6.0)
    for feed in feeds:  # a scale past the clamp would change the outputs where x > 6 / s
        np.testing.assert_allclose(run_graph(eq, feed)["y"], run_graph(lowered, feed)["y"], rtol=1e-4, atol=1e-5)
