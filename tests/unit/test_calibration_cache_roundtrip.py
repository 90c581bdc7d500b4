"""Statistics read back from the calibration cache equal freshly collected ones, so a
build gives the same bytes whether its calibration came from the cache or not (the
GPTQ statistics are stored in float32; fresh ones are rounded the same way)."""

from __future__ import annotations

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn, tiny_transformer, transformer_feeds

import edgeq
from edgeq.calibrate.collect import Calibration, collect
from edgeq.data import from_iterable
from edgeq.quantize.rewrites.prepare import lower


MODELS = {"cnn": (small_cnn, cnn_feeds), "transformer": (tiny_transformer, transformer_feeds)}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_cache_round_trip_is_exact(tmp_path, kind):
    make, feeds = MODELS[kind]
    model = edgeq.load(save(make(), tmp_path / "m.onnx"))
    lowered = lower(model.graph)
    fresh = collect(lowered, from_iterable(feeds(6)), model_hash=model.sha256, cache_dir=str(tmp_path),
                    progress=False)
    assert fresh.hessians and not fresh.cached
    cached = collect(lowered, from_iterable(feeds(6)), model_hash=model.sha256, cache_dir=str(tmp_path),
                     progress=False)
    assert cached.cached
    back = Calibration.from_arrays(fresh.to_arrays(), fresh.key)
    for calib in (cached, back):
        assert sorted(calib.hessians) == sorted(fresh.hessians)
        for k, h in fresh.hessians.items():
            np.testing.assert_array_equal(calib.hessians[k], h, err_msg=k)
        for n, s in fresh.stats.items():
            np.testing.assert_array_equal(calib.stats[n].counts, s.counts, err_msg=n)
        for n, m in fresh.channel_means.items():
            np.testing.assert_array_equal(calib.channel_means[n], m, err_msg=n)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_quantized_model_is_the_same_from_the_cache(tmp_path, kind):
    make, feeds = MODELS[kind]
    path = save(make(), tmp_path / "m.onnx")
    kw = dict(progress=False, cache_dir=str(tmp_path / "cache"))
    cold = edgeq.quantize(edgeq.load(path), feeds(6), **kw)
    warm = edgeq.quantize(edgeq.load(path), feeds(6), **kw)
    assert warm.report["timings"]["calibration_cached"] and not cold.report["timings"]["calibration_cached"]
    for name, t in cold.graph.tensors.items():
        if t.data is not None:
            np.testing.assert_array_equal(warm.graph.tensors[name].data, t.data, err_msg=name)
