"""Shared fixtures of the TFLite plugin tests: two small float models, their min/max
quantized graphs (docs/quantization.md contract) and calibration/evaluation feeds."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert.interpreter")

from edgeq.testing.float_models import small_cnn, transformer_block  # noqa: E402
from edgeq.testing.qgraph import quantize_float_graph  # noqa: E402


class ModelCase:
    def __init__(self, float_graph, n_feeds: int = 4, seed: int = 0) -> None:
        self.float_graph = float_graph
        rng = np.random.default_rng(seed)
        name = float_graph.inputs[0]
        shape = float_graph.tensors[name].shape
        self.feeds = [{name: rng.uniform(-1, 1, shape).astype(np.float32)} for _ in range(n_feeds)]
        self.graph = quantize_float_graph(float_graph, self.feeds)


@pytest.fixture(scope="session")
def cnn() -> ModelCase:
    return ModelCase(small_cnn())


@pytest.fixture(scope="session")
def transformer() -> ModelCase:
    return ModelCase(transformer_block())
