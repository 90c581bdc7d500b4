"""The in-place fast paths of the quantizer's hot loops give the same floats as the
plain formulas they replace (quantized models must not change when they get faster):
MSE observer prefix sums and grid errors, per-channel weight clipping errors,
Graph.copy and Graph.unique_name."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.calibrate.observers import MseObserver, _prefix_sums
from edgeq.calibrate.stats import TensorStats
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.arith import scheme


def _stats(rng, kind: int) -> TensorStats:
    s = TensorStats()
    for _ in range(3):
        x = {0: lambda: rng.standard_normal(700) * rng.uniform(0.01, 10),
             1: lambda: np.abs(rng.standard_normal(700)),
             2: lambda: -np.abs(rng.standard_normal(700)) - 1.0,
             3: lambda: np.zeros(50),
             4: lambda: rng.integers(-3, 4, 500).astype(np.float64),
             5: lambda: np.tanh(rng.standard_normal(400) * 3)}[kind]()
        s.update(x.astype(np.float32))
    return s


def _plain_prefix_sums(stats):
    counts, edges = stats.histogram()
    centers = 0.5 * (edges[:-1] + edges[1:])
    c0 = np.concatenate([[0.0], np.cumsum(counts)])
    c1 = np.concatenate([[0.0], np.cumsum(counts * centers)])
    c2 = np.concatenate([[0.0], np.cumsum(counts * centers * centers)])
    return centers, c0, c1, c2


def _plain_errors(centers, c0, c1, c2, a, b, s, zeros):
    j = np.searchsorted(centers, a, side="left")
    k = np.searchsorted(centers, b, side="right")
    below = a * a * c0[j] - 2 * a * c1[j] + c2[j]
    above = (c2[-1] - c2[k]) - 2 * b * (c1[-1] - c1[k]) + b * b * (c0[-1] - c0[k])
    inside = np.maximum(c0[k] - c0[j] - zeros, 0.0)
    return below + above + inside * s * s / 12.0


@pytest.mark.parametrize("kind", range(6))
def test_mse_prefix_sums_and_errors_equal_the_plain_formulas(kind):
    rng = np.random.default_rng(kind)
    for _ in range(5):
        st = _stats(rng, kind)
        fast, plain = _prefix_sums(st), _plain_prefix_sums(st)
        for f, p in zip(fast, plain):
            assert f.dtype == p.dtype and np.array_equal(f, p)
        centers, c0, c1, c2 = plain
        if centers.size == 0:
            continue
        frac = MseObserver()._frac
        lo, hi = min(st.min, 0.0) * frac, max(st.max, 0.0) * frac
        s = (hi[None, :] - lo[:, None]) / 255
        got = MseObserver._errors(centers, c0, c1, c2, lo[:, None], hi[None, :], s, st.zeros)
        want = _plain_errors(centers, c0, c1, c2, lo[:, None], hi[None, :], s, st.zeros)
        assert np.array_equal(got, want)
        t = max(-st.min, st.max) * frac  # the symmetric search's 1-d candidates
        got = MseObserver._errors(centers, c0, c1, c2, -t, t, 2 * t / 65534, st.zeros)
        assert np.array_equal(got, _plain_errors(centers, c0, c1, c2, -t, t, 2 * t / 65534, st.zeros))


def _plain_channel_errors(wc, t):
    s = np.where(t > 0, t / scheme.WEIGHT_QMAX, 1.0)[:, None]
    q = np.clip(scheme.round_half_away(wc / s), -scheme.WEIGHT_QMAX, scheme.WEIGHT_QMAX)
    return np.sum((wc - q * s) ** 2, axis=1)


@pytest.mark.parametrize("shape", [(64, 48), (8, 3, 3, 3), (5, 1)])
def test_weight_clipping_errors_equal_round_half_away(shape):
    rng = np.random.default_rng(len(shape))
    w = rng.standard_normal(shape).astype(np.float32)
    w.reshape(shape[0], -1)[0] = 0.0  # a dead channel (threshold 0)
    w.reshape(shape[0], -1)[-1, :1] = -0.0
    wc = w.reshape(shape[0], -1).astype(np.float64)
    # exact .5 ties of wc / s (both signs) where round-half-away and half-even differ
    wc[1 % shape[0], :] = np.linspace(-2.5, 2.5, wc.shape[1]) * (np.abs(wc[1 % shape[0]]).max() / scheme.WEIGHT_QMAX)
    amax = np.abs(wc).max(axis=1)
    for f in (1.0, 0.7, 0.5, 0.31):
        t = amax * f
        assert np.array_equal(scheme._channel_errors(wc, t), _plain_channel_errors(wc, t))
        scratch = np.full_like(wc, np.nan)
        assert np.array_equal(scheme._channel_errors(wc, t, scratch), _plain_channel_errors(wc, t))


def test_graph_copy_is_deep_for_mutable_attributes_and_keeps_values():
    pads = [0, 1, 0, 1]
    nested = {"a": [1, [2, 3]]}
    table = np.arange(4.0)
    g = Graph("g", {"x": Tensor("x", np.float32, (1, 4)), "w": Tensor("w", np.float32, (4,), np.ones(4, np.float32)),
                    "y": Tensor("y", np.float32, (1, 4))},
              [Node("n", "Conv", ["x", "w"], ["y"], {"pads": pads, "group": 1, "alpha": 0.5, "mode": "x",
                                                     "nested": nested, "table": table})],
              ["x"], ["y"])
    c = g.copy()
    n = c.nodes[0]
    assert {k: v for k, v in n.attrs.items() if k != "table"} == \
        {"pads": [0, 1, 0, 1], "group": 1, "alpha": 0.5, "mode": "x", "nested": {"a": [1, [2, 3]]}}
    assert np.array_equal(n.attrs["table"], table)
    n.attrs["pads"].append(9)
    n.attrs["nested"]["a"][1].append(4)
    n.attrs["table"][0] = 7.0
    assert pads == [0, 1, 0, 1] and nested == {"a": [1, [2, 3]]} and table[0] == 0.0
    assert c.tensors["w"].data is g.tensors["w"].data  # constants shared (documented)
    assert c.tensors["x"] == g.tensors["x"] and c.tensors["x"] is not g.tensors["x"]
    c.tensors["x"].shape = (2, 4)
    assert g.tensors["x"].shape == (1, 4)
    # a shape left in non-canonical form is normalised by the copy
    g.tensors["y"].shape = [np.int64(1), 4]
    assert g.copy().tensors["y"].shape == (1, 4) and type(g.copy().tensors["y"].shape[0]) is int


def test_unique_name_avoids_tensor_and_node_names():
    g = Graph("g", {"a": Tensor("a", np.float32, (1,)), "a_1": Tensor("a_1", np.float32, (1,))},
              [Node("a_2", "Relu", ["a"], ["a_1"]), Node("b", "Relu", ["a"], ["c"])], ["a"], ["a_1"])
    assert g.unique_name("a") == "a_3"
    assert g.unique_name("b") == "b_1"
    assert g.unique_name("fresh") == "fresh"
