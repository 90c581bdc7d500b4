"""Fixtures of the Core ML plugin tests: the TFLite tests' small float graphs (a CNN with
the MobileNet blocks, a transformer block), quantized under the Core ML spec with
min/max ranges, and built into artifacts once per session."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("coremltools")


class QModel:
    """The attributes of a QuantizedModel that Target.emit reads."""

    def __init__(self, graph, float_graph=None, fingerprint: str = "calib-test") -> None:
        self.graph = graph
        self.float_graph = float_graph
        self.calibration_fingerprint = fingerprint


class Case:
    def __init__(self, float_graph, n_feeds: int = 4, seed: int = 0) -> None:
        from edgeq.testing.qgraph import quantize_float_graph

        self.float_graph = float_graph
        rng = np.random.default_rng(seed)
        self.input = float_graph.inputs[0]
        shape = float_graph.tensors[self.input].shape
        self.feeds = [{self.input: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(n_feeds)]
        self.graph = quantize_float_graph(float_graph, self.feeds)
        self.qmodel = QModel(self.graph, float_graph)


@pytest.fixture(scope="session")
def cnn() -> Case:
    from edgeq.testing.float_models import small_cnn

    return Case(small_cnn())


@pytest.fixture(scope="session")
def transformer() -> Case:
    from edgeq.testing.float_models import transformer_block

    return Case(transformer_block())


def build(case: Case, tmp_path, **extra):
    from edgeq.sdk import BuildOptions

    from edgeq_coreml.target import build_artifact

    precision = extra.pop("precision", "int8")
    return build_artifact(case.qmodel, tmp_path / "ane", BuildOptions(precision=precision, extra=extra))


@pytest.fixture(scope="session")
def cnn_artifact(cnn, tmp_path_factory):
    return build(cnn, tmp_path_factory.mktemp("cnn"))


@pytest.fixture(scope="session")
def transformer_artifact(transformer, tmp_path_factory):
    return build(transformer, tmp_path_factory.mktemp("tr"))
