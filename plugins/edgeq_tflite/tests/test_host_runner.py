"""The host runner: NCHW float feeds in, outputs back by name; profile statistics."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.sdk import UsageError
from edgeq.sdk import run_quantized
from edgeq.sdk import BuildOptions

from edgeq_tflite.runners.host import HostRunner
from edgeq_tflite.target import build_artifact
from edgeq.testing.conformance import CaseModel as QModel


@pytest.fixture(scope="module")
def artifacts(cnn, tmp_path_factory):
    root = tmp_path_factory.mktemp("art")
    return {io: build_artifact(QModel(cnn.graph), root / io, BuildOptions(io_dtype=io))
            for io in ("float32", "int8", "uint8")}


@pytest.mark.parametrize("io", ["float32", "int8", "uint8"])
def test_run_matches_simulator_for_every_io(io, artifacts, cnn):
    got = HostRunner(delegate="reference").run(artifacts[io], cnn.feeds[1])
    sim = run_quantized(cnn.graph, cnn.feeds[1])
    for name, v in sim.items():
        np.testing.assert_allclose(got[name], v, rtol=1e-6, atol=1e-7)


def test_profile_statistics(artifacts, cnn):
    refs = [run_quantized(cnn.graph, f) for f in cnn.feeds]
    rep = HostRunner(threads=2).profile(artifacts["float32"], cnn.feeds, runs=20, warmup=3,
                                        references=refs)
    lat = rep.latency
    assert lat.runs == 20 and len(lat.samples_ms) == 20
    assert lat.min_ms <= lat.p50_ms <= lat.p90_ms <= lat.max_ms and lat.std_ms >= 0
    assert lat.load_ms is not None and lat.load_ms > 0
    assert rep.peak_memory_mb is not None and rep.peak_memory_mb >= 0
    assert len(rep.outputs) == len(cnn.feeds)
    assert rep.device["threads"] == 2 and rep.device["delegate"] == "xnnpack"
    assert rep.accuracy["samples"] == len(cnn.feeds)
    assert rep.accuracy["cosine_min"] > 0.999  # XNNPACK vs the simulator: ≤ 1 LSB per op


def test_reference_delegate_is_bit_exact(artifacts, cnn):
    rep = HostRunner(delegate="reference").profile(artifacts["int8"], cnn.feeds[:2], runs=2, warmup=0,
                                                   references=[run_quantized(cnn.graph, f)
                                                               for f in cnn.feeds[:2]])
    assert rep.accuracy["max_abs_error"] == 0.0


def test_bad_arguments(artifacts, cnn):
    with pytest.raises(UsageError, match="delegate"):
        HostRunner(delegate="tpu")
    with pytest.raises(UsageError, match="threads"):
        HostRunner(threads=0)
    with pytest.raises(UsageError, match="interpreter 'tf'"):
        HostRunner(interpreter="tf")
    with pytest.raises(UsageError, match="missing input 'image'"):
        HostRunner().run(artifacts["float32"], {"wrong": cnn.feeds[0]["image"]})
    with pytest.raises(UsageError, match="shape"):
        HostRunner().run(artifacts["float32"], {"image": np.zeros((1, 32, 32, 3), np.float32)})
    with pytest.raises(UsageError, match="runs"):
        HostRunner().profile(artifacts["float32"], cnn.feeds, runs=0)


def test_interpreter_choice_is_reported_and_bit_exact(artifacts, cnn):
    # tflite-runtime itself is cross-checked in its own environment (test_tflite_runtime.py):
    # its wheels are built against numpy 1.x
    interpreter = "litert"
    refs = [run_quantized(cnn.graph, f) for f in cnn.feeds[:2]]
    rep = HostRunner(delegate="reference", interpreter=interpreter).profile(
        artifacts["int8"], cnn.feeds[:2], runs=2, warmup=0, references=refs)
    assert rep.device["interpreter"] == "ai_edge_litert"
    assert rep.accuracy["max_abs_error"] == 0.0
    # the default kernels of either package stay within 1 LSB per op
    rep = HostRunner(interpreter=interpreter).profile(artifacts["int8"], cnn.feeds[:2], runs=2,
                                                      warmup=0, references=refs)
    assert rep.accuracy["cosine_min"] > 0.999


def test_auto_falls_back_to_tflite_runtime(monkeypatch):
    """Without ai-edge-litert, ``auto`` takes tflite-runtime; without either, the error
    names what to install."""
    import sys

    from edgeq.sdk import TargetUnavailableError
    from edgeq_tflite.runners.host import interpreter_module

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import raises ImportError
    try:
        import tflite_runtime.interpreter  # noqa: F401
        assert interpreter_module("auto").__name__ == "tflite_runtime.interpreter"
    except ImportError:
        pass
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    with pytest.raises(TargetUnavailableError, match="pip install ai-edge-litert"):
        interpreter_module("auto")
