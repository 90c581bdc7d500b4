"""The quantizer's HardSwish decomposition (edgeq/quantize/rewrites/hardswish.py) in float: the
MUL / ADD / MUL rewrite computes HardSwish and its derived ranges hold the values.
Its TFLite side (operators, XNNPACK, bit-exactness) is in the TFLite plugin's tests."""

from __future__ import annotations

import numpy as np

from edgeq.interp.float_interp import run_graph
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.rewrites import hardswish


def _hardswish(x):
    return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def test_expansion_is_hardswish_in_float():
    g = Graph("g")
    g.tensors = {"x": Tensor("x", np.float32, (1, 401)), "y": Tensor("y", np.float32, (1, 401))}
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes = [Node("hs", "HardSwish", ["x"], ["y"])]
    x = np.linspace(-8, 5, 401, dtype=np.float32)[None]
    expanded, ranges, replaced = hardswish.expand(g, {"hs"}, lambda t: (-8.0, 5.0))
    assert expanded.op_histogram() == {"Mul": 2, "Add": 1} and len(replaced["hs"]) == 3
    values = run_graph(expanded, {"x": x}, outputs=[n.outputs[0] for n in expanded.nodes])
    np.testing.assert_allclose(values["y"], _hardswish(x.astype(np.float64)), atol=1e-6)
    for name, (lo, hi) in ranges.items():  # derived ranges hold the values exactly
        assert lo <= values[name].min() + 1e-6 and values[name].max() <= hi + 1e-6, name
    assert hardswish.hardsigmoid_range(-8.0, 5.0) == (0.0, 1.0)
    assert hardswish.hardsigmoid_range(-1.0, 1.5) == (0.0, 0.75)  # finer step when x < 3
