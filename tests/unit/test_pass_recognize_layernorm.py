"""recognize_layernorm: the decomposed form becomes LayerNormalization."""

import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import check_pass, make_model  # noqa: E402

from edgeq.ir.passes import recognize_layernorm  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(0)


def decomposed(*, square="pow", divide="div", gamma=True, beta=True, axes=(-1,), shape=(2, 5, 8),
               gamma_shape=None, extra_d_use=False, opset=17):
    axes_attr = opset < 18
    def reduce(i, o):
        return N("ReduceMean", [i] if axes_attr else [i, "axes"], [o], **({"axes": list(axes)} if axes_attr else {}))
    nodes = [reduce("x", "mean"), N("Sub", ["x", "mean"], ["d"])]
    nodes.append(N("Pow", ["d", "two"], ["sq"]) if square == "pow" else N("Mul", ["d", "d"], ["sq"]))
    nodes += [reduce("sq", "var"), N("Add", ["var", "eps"], ["ve"]), N("Sqrt", ["ve"], ["std"])]
    if divide == "div":
        nodes.append(N("Div", ["d", "std"], ["n"]))
    else:
        nodes += [N("Reciprocal", ["std"], ["inv"]), N("Mul", ["d", "inv"], ["n"])]
    out = "n"
    norm_shape = gamma_shape or shape[-len(axes):]
    inits = {"two": np.array(2, np.float32), "eps": np.array(1e-5, np.float32),
             "axes": np.array(axes, np.int64),
             "g": RNG.uniform(0.5, 1.5, norm_shape).astype(np.float32),
             "b": RNG.standard_normal(norm_shape).astype(np.float32)}
    if gamma:
        nodes.append(N("Mul", ["g", out], ["ng"]))
        out = "ng"
    if beta:
        nodes.append(N("Add", [out, "b"], ["nb"]))
        out = "nb"
    nodes.append(N("Identity", [out], ["y"]))
    outputs = {"y": None}
    if extra_d_use:
        nodes.append(N("Neg", ["d"], ["z"]))
        outputs["z"] = None
    return make_model(nodes, inputs={"x": shape}, outputs=outputs, initializers=inits, opset=opset)


@pytest.mark.parametrize("kw", [
    {}, {"square": "mul"}, {"divide": "reciprocal"}, {"gamma": False}, {"beta": False},
    {"gamma": False, "beta": False}, {"axes": (-2, -1)}, {"opset": 13}, {"opset": 18},
    {"gamma_shape": (1, 1, 8)},
])
def test_decomposed_forms(kw):
    _, after, changed = check_pass(decomposed(**kw), recognize_layernorm.run, atol=1e-5)
    assert changed
    hist = after.op_histogram()
    assert hist.pop("LayerNormalization") == 1 and set(hist) <= {"Identity"}
    ln = next(n for n in after.nodes if n.op_type == "LayerNormalization")
    rank = 3
    assert ln.attrs["axis"] == rank - len(kw.get("axes", (-1,)))
    assert ln.attrs["epsilon"] == pytest.approx(1e-5)
    assert ln.inputs[0] == "x" and after.const(ln.inputs[1]).shape == (2, 5, 8)[ln.attrs["axis"]:]
    assert len(ln.inputs) == (3 if kw.get("beta", True) else 2)


@pytest.mark.parametrize("kw", [
    {"axes": (1,)},                       # not the trailing axes
    {"gamma_shape": (2, 1, 8)},           # gamma varies along the batch axis
    {"extra_d_use": True},                # x - mean is read elsewhere
])
def test_negatives(kw):
    _, after, changed = check_pass(decomposed(**kw), recognize_layernorm.run, atol=1e-5)
    if changed:  # at most the plain normalisation may be recognised, never with gamma
        assert "gamma_shape" in kw
        ln = next(n for n in after.nodes if n.op_type == "LayerNormalization")
        np.testing.assert_array_equal(after.const(ln.inputs[1]), np.ones(8, np.float32))
    else:
        assert "LayerNormalization" not in after.op_histogram()


def test_onnx_layernorm_op_gets_explicit_attrs():
    inits = {"g": np.ones(8, np.float32), "b": np.zeros(8, np.float32)}
    m = make_model([N("LayerNormalization", ["x", "g", "b"], ["y"])], inputs={"x": (2, 8)},
                   outputs={"y": None}, initializers=inits, opset=17)
    _, after, changed = check_pass(m, recognize_layernorm.run)
    assert changed and after.nodes[0].attrs == {"axis": 1, "epsilon": 1e-5}
    assert not recognize_layernorm.run(after)
