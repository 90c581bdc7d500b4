"""canonicalize: the passes together, to a fixed point, on small CNN and transformer blocks."""

import math
import sys
from pathlib import Path

import numpy as np
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, random_feeds, run_ir  # noqa: E402

from edgeq.ir.onnx_import import import_onnx  # noqa: E402
from edgeq.ir.pipeline import PASSES, canonicalize  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(0)


def arr(*shape, low=None):
    if low is not None:
        return RNG.uniform(low, 1.5, shape).astype(np.float32)
    return (RNG.standard_normal(shape) * 0.3).astype(np.float32)


def bn(prefix, c, inits):
    inits.update({f"{prefix}_s": arr(c, low=0.5), f"{prefix}_b": arr(c), f"{prefix}_m": arr(c),
                  f"{prefix}_v": arr(c, low=0.5)})
    return [f"{prefix}_s", f"{prefix}_b", f"{prefix}_m", f"{prefix}_v"]


def mobilenetv3_block():
    """Conv-BN-hardswish, depthwise Conv-BN-ReLU, squeeze-excite with Paddle's
    hard-sigmoid, project Conv-BN, residual, classifier Gemm + Softmax."""
    s = {k: np.array(v, np.float32) for k, v in {"three": 3, "zero": 0, "six": 6}.items()}
    inits = {**s, "w1": arr(8, 8, 1, 1), "w2": arr(8, 1, 3, 3), "w3": arr(4, 8, 1, 1), "b3": arr(4),
             "w4": arr(8, 4, 1, 1), "b4": arr(8), "w5": arr(8, 8, 1, 1), "fc": arr(10, 8), "fcb": arr(10),
             "b3r": np.array([1, 4, 1, 1], np.int64)}
    nodes = [N("Conv", ["x", "w1"], ["c1"]), N("BatchNormalization", ["c1", *bn("bn1", 8, inits)], ["n1"]),
             N("Add", ["n1", "three"], ["a1"]), N("Clip", ["a1", "zero", "six"], ["r1"]),
             N("Mul", ["n1", "r1"], ["m1"]), N("Div", ["m1", "six"], ["h1"]),
             N("Conv", ["h1", "w2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
             N("BatchNormalization", ["c2", *bn("bn2", 8, inits)], ["n2"]), N("Relu", ["n2"], ["r2"]),
             N("GlobalAveragePool", ["r2"], ["g"]), N("Conv", ["g", "w3"], ["c3"]),
             N("Reshape", ["b3", "b3r"], ["b3_4d"]), N("Add", ["c3", "b3_4d"], ["c3b"]), N("Relu", ["c3b"], ["r3"]),
             N("Conv", ["r3", "w4", "b4"], ["c4"]), N("HardSigmoid", ["c4"], ["hs"], alpha=0.2, beta=0.5),
             N("Mul", ["r2", "hs"], ["se"]), N("Conv", ["se", "w5"], ["c5"]),
             N("BatchNormalization", ["c5", *bn("bn5", 8, inits)], ["n5"]), N("Add", ["n5", "x"], ["res"]),
             N("GlobalAveragePool", ["res"], ["gp"]), N("Flatten", ["gp"], ["f"]),
             N("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1), N("Softmax", ["logits"], ["p"], axis=1),
             N("Identity", ["p"], ["y"])]
    return make_model(nodes, inputs={"x": ("N", 8, 6, 6)}, outputs={"y": ("N", 10)}, initializers=inits, opset=11)


def encoder_block():
    """FC (MatMul + Add), decomposed LayerNorm, erf GELU, FC, residual."""
    c = {k: np.array(v, np.float32) for k, v in
         {"two": 2, "eps": 1e-12, "half": 0.5, "one": 1, "sqrt2": math.sqrt(2)}.items()}
    inits = {**c, "w1": arr(16, 32), "b1": arr(32), "w2": arr(32, 16), "b2": arr(16), "g": arr(16, low=0.5),
             "beta": arr(16), "ax": np.array([-1], np.int64)}
    nodes = [N("ReduceMean", ["x", "ax"], ["mu"]), N("Sub", ["x", "mu"], ["d"]), N("Pow", ["d", "two"], ["sq"]),
             N("ReduceMean", ["sq", "ax"], ["var"]), N("Add", ["var", "eps"], ["ve"]), N("Sqrt", ["ve"], ["sd"]),
             N("Div", ["d", "sd"], ["nrm"]), N("Mul", ["nrm", "g"], ["ng"]), N("Add", ["ng", "beta"], ["ln"]),
             N("MatMul", ["ln", "w1"], ["h"]), N("Add", ["h", "b1"], ["hb"]),
             N("Div", ["hb", "sqrt2"], ["arg"]), N("Erf", ["arg"], ["e"]), N("Add", ["e", "one"], ["p"]),
             N("Mul", ["hb", "p"], ["hp"]), N("Mul", ["hp", "half"], ["gelu"]),
             N("MatMul", ["gelu", "w2"], ["o"]), N("Add", ["b2", "o"], ["ob"]), N("Add", ["x", "ob"], ["y"])]
    return make_model(nodes, inputs={"x": (1, 7, 16)}, outputs={"y": None}, initializers=inits, opset=18)


def check(model, shapes, expected_hist):
    imported = import_onnx(model, shapes)
    snapshot = imported.op_histogram()
    canonical = canonicalize(imported)
    assert imported.op_histogram() == snapshot  # the argument is not modified
    assert canonical.op_histogram() == expected_hist
    feeds = random_feeds(imported, 1)
    expected = ort_run(model, feeds)
    got = run_ir(canonical, feeds)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-5)
    # a fixed point: running every pass again changes nothing
    again = canonical.copy()
    assert not any(run(again) for _, run in PASSES)
    return canonical


def test_mobilenetv3_block():
    g = check(mobilenetv3_block(), {"x": (2, 8, 6, 6)},
              {"Conv": 5, "GlobalAveragePool": 2, "Add": 1, "Flatten": 1, "FullyConnected": 1,
               "HardSigmoid": 1, "HardSwish": 1, "Mul": 1, "Softmax": 1})
    convs = [n for n in g.nodes if n.op_type == "Conv"]
    assert [(n.attrs.get("act_min"), n.attrs.get("act_max")) for n in convs] == [
        (None, None), (0.0, math.inf), (0.0, math.inf), (None, None), (None, None)]
    assert all(len(n.inputs) == 3 for n in convs)  # BN and bias Adds folded into biases
    assert g.outputs == ["y"] and g.producers()["y"].op_type == "Softmax"


def test_encoder_block():
    g = check(encoder_block(), None, {"FullyConnected": 2, "Add": 1, "Gelu": 1, "LayerNormalization": 1})
    assert next(n for n in g.nodes if n.op_type == "Gelu").attrs == {"approximate": "none"}
