"""Build-time int16 expansions: GELU in tanh form and windowed square roots. Their float
meaning against numpy references, and their integer accuracy in the simulator."""

from __future__ import annotations

import math

import numpy as np
from _quant_models import make_model, ort_run, save, sqnr_db
from onnx import helper

import edgeq
from edgeq.interp.float_interp import run_graph
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.rewrites import gelu16, sqrt16
from edgeq.quantize.rewrites.prepare import executable

RNG = np.random.default_rng(0)


def _erf_gelu(x):
    from math import erf

    return np.vectorize(lambda v: 0.5 * v * (1 + erf(v / math.sqrt(2))))(x)


def test_gelu_tanh_form_is_close_to_erf_gelu_and_ranges_cover_it():
    g = Graph("g")
    g.tensors = {"x": Tensor("x", np.float32, (1, 200)), "y": Tensor("y", np.float32, (1, 200))}
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes = [Node("gelu", "Gelu", ["x"], ["y"], {"approximate": "none"})]
    x = np.linspace(-6, 6, 200, dtype=np.float32)[None]
    expanded, ranges, new = gelu16.expand(g, {"gelu"}, lambda t: (-6.0, 6.0))
    assert "Gelu" not in expanded.op_histogram() and len(new) == 9
    names = [n.outputs[0] for n in expanded.nodes]
    values = run_graph(expanded, {"x": x}, outputs=names)
    np.testing.assert_allclose(values["y"], _erf_gelu(x.astype(np.float64)), atol=5e-4)
    for name, (lo, hi) in ranges.items():
        assert lo <= values[name].min() + 1e-6 and values[name].max() <= hi + 1e-6, name


def test_windowed_sqrt_is_exact_in_float():
    g = Graph("g")
    g.tensors = {n: Tensor(n, np.float32, (1, 64)) for n in ("x", "r", "y")}
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes = [Node("rs", "Rsqrt", ["x"], ["r"]), Node("mul", "Mul", ["x", "r"], ["y"])]
    x = (np.logspace(-9, 2, 64) * 1.0).astype(np.float32)[None]
    x[0, 0] = 0.0
    expanded, ranges, new = sqrt16.expand(g, {"r": "x"}, lambda t: (0.0, 100.0))
    assert expanded.op_histogram()["Rsqrt"] == sqrt16.BRANCHES and "r" not in expanded.tensors
    y = run_graph(executable(expanded), {"x": x})["y"]
    np.testing.assert_allclose(y, np.sqrt(x), rtol=1e-5, atol=1e-7)
    assert ranges["y"] == (0.0, 10.0)


def test_magnitude_spectrum_in_integers(tmp_path):
    """sqrt(re² + im²) over four decades of amplitude: lowered to int16 windowed RSQRT
    tables (the limit left is the int16 step of the power itself)."""
    nodes = [helper.make_node("Mul", ["re", "re"], ["p1"]), helper.make_node("Mul", ["im", "im"], ["p2"]),
             helper.make_node("Add", ["p1", "p2"], ["p"]), helper.make_node("Sqrt", ["p"], ["mag"])]
    model = make_model(nodes, inputs={"re": (1, 256), "im": (1, 256)}, outputs={"mag": (1, 256)})
    m = edgeq.load(save(model, tmp_path / "mag.onnx"))

    def feeds(n, seed):
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            amp = (10.0 ** rng.uniform(-3, 1, size=(1, 256))).astype(np.float32)
            phase = rng.uniform(0, 2 * np.pi, size=(1, 256))
            out.append({"re": (amp * np.cos(phase)).astype(np.float32), "im": (amp * np.sin(phase)).astype(np.float32)})
        return out

    qm = edgeq.quantize(m, feeds(16, 1), progress=False, use_cache=False)
    ops = qm.graph.op_histogram()
    assert ops["Rsqrt"] == sqrt16.BRANCHES and "Sqrt" not in ops
    rs = [n for n in qm.graph.nodes if n.op_type == "Rsqrt"]
    assert all(qm.graph.tensors[n.outputs[0]].dtype == np.int16 for n in rs)
    for f in feeds(3, 7):
        ref = ort_run(model, f)["mag"]
        out = qm.run(f)["mag"]
        assert sqnr_db(ref, out) > 35
        # magnitudes 7x-50x below the top (powers 1/50 to 1/2500 of the range), where one
        # table over the whole range interpolates badly, stay within 3 %
        mid = (ref > 0.3) & (ref < 2.0)
        assert mid.sum() > 20 and np.max(np.abs(out - ref)[mid] / ref[mid]) < 0.03


def test_attention_mask_ranges_saturate_masked_positions(tmp_path):
    from _quant_models import tiny_transformer, transformer_feeds

    m = edgeq.load(save(tiny_transformer(), tmp_path / "t.onnx"))
    qm = edgeq.quantize(m, transformer_feeds(16), progress=False, use_cache=False)
    g = qm.graph
    add = g.node_by_name("mask_add")
    scores, bias = add.inputs
    s_lo = float(g.tensors[scores].quant.scale[0]) * (-128 - int(g.tensors[scores].quant.zero_point[0]))
    out = g.tensors[add.outputs[0]].quant
    lo = float(out.scale[0]) * (-128 - int(out.zero_point[0]))
    assert lo <= s_lo - 10 + 2 * float(out.scale[0])  # 10 below the lowest score
    b = g.tensors[bias].quant
    assert int(b.zero_point[0]) == 127  # range [-K, 0]
    feed = transformer_feeds(1, seed=3)[0]
    probs = qm.run(feed, outputs=[g.node_by_name("softmax").outputs[0]])
    p = g.tensors[g.node_by_name("softmax").outputs[0]].quant.dequantize(next(iter(probs.values())))
    masked = feed["mask"][0] == 0
    assert np.all(p[..., masked] == 0.0)
