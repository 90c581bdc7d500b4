"""Float conformance: each op of the edgeq float interpreter against onnxruntime.

For every golden case (``_float_cases.py``) a one-node ONNX model is run by onnxruntime
(graph optimisations off, 1 thread) and by edgeq's interpreter; the outputs must agree
within the case's tolerance. The same IR graph is then exported with
``edgeq.ir.onnx_export.to_onnx`` and run by onnxruntime again (round trip). edgeq's
canonical ops (FullyConnected, Silu, Gelu before opset 20, fused clamps), which have no
one-node ONNX form, are checked against independent numpy formulas and against
onnxruntime running their exported expansion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from _float_cases import all_cases
from _float_harness import Case, assert_close, direct_ir, importer, ort_run, rng_for
from edgeq.errors import ShapeError, UnsupportedOpError
from edgeq.interp.float_interp import run_graph
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.ort_backend import OrtRunner
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.ir.onnx_export import to_onnx

CASES = all_cases()
IDS = [c.name for c in CASES]


@pytest.fixture(scope="module")
def golden():
    """onnxruntime's outputs per case, computed once for all tests of this module."""
    return {c.name: ort_run(c.model(), c.feeds) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_interpreter_matches_onnxruntime(case: Case, golden):
    ref = golden[case.name]
    graph = direct_ir(case.model(), ref)
    ours = run_graph(graph, case.feeds)
    assert_close(ours, ref, case, "interpreter")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_export_round_trip(case: Case, golden):
    """to_onnx(IR) run by onnxruntime reproduces the original model's outputs."""
    ref = golden[case.name]
    graph = direct_ir(case.model(), ref)
    exported = OrtRunner(graph, optimize=False).run(case.feeds)
    assert_close(exported, ref, case, "to_onnx round trip")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_imported_graph_matches_onnxruntime(case: Case, golden):
    """Through the real importer: attribute normalisation plus the kernel."""
    import_onnx = importer()
    if import_onnx is None:
        pytest.skip("edgeq.ir.onnx_import is not available yet")
    graph = import_onnx(case.model(golden[case.name]))
    ours = run_graph(graph, case.feeds)
    assert_close(ours, golden[case.name], case, "imported")


def test_every_registered_op_has_a_golden_case():
    # canonical ops below; the lowered-graph ops Rsqrt and SquaredDifference against their
    # ONNX expansion in onnxruntime: tests/unit/test_float_fallback_lowered_ops.py
    covered = {c.op_type for c in CASES} | {"FullyConnected", "Silu", "Constant", "Rsqrt", "SquaredDifference",
                                            "IntegerLSTM"}
    missing = sorted(FLOAT_OPS.op_types - covered)
    assert not missing, f"ops without a conformance case: {missing}"


# -- edgeq canonical ops ---------------------------------------------------------------

def _graph(nodes, tensors, inputs, outputs, opset=18) -> Graph:
    return Graph("g", {t.name: t for t in tensors}, nodes, inputs, outputs, opset)


def _check_both(graph, feeds, expected, rtol=1e-5, atol=1e-5):
    ours = run_graph(graph, feeds)
    theirs = OrtRunner(graph).run(feeds)
    for name, want in expected.items():
        np.testing.assert_allclose(ours[name], want, rtol=rtol, atol=atol, err_msg=f"interp {name}")
        np.testing.assert_allclose(theirs[name], want, rtol=rtol, atol=atol, err_msg=f"ort {name}")


@pytest.mark.parametrize("xshape", [(5, 8), (2, 7, 8)], ids=["2d_gemm", "3d_matmul"])
@pytest.mark.parametrize("bias", [True, False])
def test_fully_connected(xshape, bias):
    rng = rng_for(f"fc{xshape}{bias}")
    x = rng.standard_normal(xshape).astype(np.float32)
    w = rng.standard_normal((6, 8)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    tensors = [Tensor("x", np.float32, xshape), Tensor("w", np.float32, w.shape, w),
               Tensor("y", np.float32, xshape[:-1] + (6,))]
    inputs = ["x", "w"]
    if bias:
        tensors.append(Tensor("b", np.float32, (6,), b))
        inputs.append("b")
    g = _graph([Node("fc", "FullyConnected", inputs, ["y"])], tensors, ["x"], ["y"])
    want = x.astype(np.float64) @ w.T.astype(np.float64) + (b if bias else 0)
    _check_both(g, {"x": x}, {"y": want})


def test_integer_lstm_float_meaning_is_onnx_lstm():
    """IntegerLSTM (gates i, f, c, o; per-gate matrices) in float equals onnxruntime's
    LSTM (gates i, o, f, c in W/R/B) with the same weights and initial states."""
    from onnx import TensorProto, helper

    rng = rng_for("integer_lstm")
    steps, batch, n_in, hidden = 5, 2, 6, 4
    x = rng.standard_normal((steps, batch, n_in)).astype(np.float32)
    h0, c0 = (rng.standard_normal((batch, hidden)).astype(np.float32) for _ in range(2))
    w, r, b = ({k: rng.standard_normal(shape).astype(np.float32) * 0.5 for k in "ifco"}
               for shape in ((hidden, n_in), (hidden, hidden), (hidden,)))
    names = ["x", "h0", "c0"] + [f"{m}_{k}" for m in "WRB" for k in "ifco"]
    values = {"x": x, "h0": h0, "c0": c0, **{f"W_{k}": w[k] for k in "ifco"},
              **{f"R_{k}": r[k] for k in "ifco"}, **{f"B_{k}": b[k] for k in "ifco"}}
    tensors = [Tensor(n, np.float32, values[n].shape, None if n in ("x", "h0", "c0") else values[n]) for n in names]
    tensors += [Tensor("y", np.float32, (steps, 1, batch, hidden)), Tensor("y_h", np.float32, (1, batch, hidden)),
                Tensor("y_c", np.float32, (1, batch, hidden))]
    g = _graph([Node("lstm", "IntegerLSTM", names, ["y", "y_h", "y_c"], {"cell_scale_log2": -11})],
               tensors, ["x", "h0", "c0"], ["y", "y_h", "y_c"])
    ours = run_graph(g, {"x": x, "h0": h0, "c0": c0})
    onnx_order = "iofc"
    inits = [helper.make_tensor("W", TensorProto.FLOAT, (1, 4 * hidden, n_in),
                                np.concatenate([w[k] for k in onnx_order]).ravel()),
             helper.make_tensor("R", TensorProto.FLOAT, (1, 4 * hidden, hidden),
                                np.concatenate([r[k] for k in onnx_order]).ravel()),
             helper.make_tensor("B", TensorProto.FLOAT, (1, 8 * hidden),
                                np.concatenate([b[k] for k in onnx_order] + [np.zeros(4 * hidden, np.float32)]))]
    node = helper.make_node("LSTM", ["x", "W", "R", "B", "", "h", "c"], ["y", "y_h", "y_c"], hidden_size=hidden)
    io = lambda n, shape: helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)  # noqa: E731
    model = helper.make_model(helper.make_graph(
        [node], "lstm", [io("x", x.shape), io("h", (1, batch, hidden)), io("c", (1, batch, hidden))],
        [io("y", None), io("y_h", None), io("y_c", None)], inits), opset_imports=[helper.make_opsetid("", 14)])
    ref = ort_run(model, {"x": x, "h": h0[None], "c": c0[None]})
    for name in ("y", "y_h", "y_c"):
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("opset", [18, 20])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_and_silu_expansions(opset, approximate):
    x = np.linspace(-6, 6, 97, dtype=np.float32).reshape(1, 97)
    tensors = [Tensor(n, np.float32, x.shape) for n in ("x", "g", "s")]
    nodes = [Node("gelu", "Gelu", ["x"], ["g"], {"approximate": approximate}),
             Node("silu", "Silu", ["x"], ["s"])]
    g = _graph(nodes, tensors, ["x"], ["g", "s"], opset=opset)
    xd = x.astype(np.float64)
    if approximate == "none":
        gelu = 0.5 * xd * (1 + np.vectorize(math.erf)(xd / math.sqrt(2)))
    else:
        gelu = 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)))
    _check_both(g, {"x": x}, {"g": gelu, "s": xd / (1 + np.exp(-xd))}, rtol=1e-6, atol=1e-6)


def test_fused_clamp_on_any_node_keeps_ir_names():
    """act_min/act_max clamp the node's output; the IR name denotes the clamped value in
    the interpreter and in the exported model alike."""
    rng = rng_for("clamp")
    a = rng.uniform(-10, 10, (4, 5)).astype(np.float32)
    b = rng.uniform(-10, 10, (4, 5)).astype(np.float32)
    tensors = [Tensor(n, np.float32, (4, 5)) for n in ("a", "b", "s", "y")]
    nodes = [Node("add", "Add", ["a", "b"], ["s"], {"act_min": 0.0, "act_max": 6.0}),
             Node("mul", "Mul", ["s", "b"], ["y"], {"act_max": 3.0})]
    g = _graph(nodes, tensors, ["a", "b"], ["y"])
    s = np.clip(a + b, 0, 6)
    want = {"s": s, "y": np.minimum(s * b, 3)}
    ours = run_graph(g, {"a": a, "b": b}, outputs=["s", "y"])
    theirs = OrtRunner(g, outputs=["s", "y"]).run({"a": a, "b": b})
    for name in want:
        np.testing.assert_allclose(ours[name], want[name], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(theirs[name], want[name], rtol=1e-6, atol=1e-6)
    # the interpreter never clamps a kernel's input in place
    assert np.array_equal(a, a.copy()) and ours["s"].min() >= 0


@pytest.mark.parametrize("channels,group,hw", [(8, 1, 9), (8, 8, 9), (96, 96, 4)],
                         ids=["dense", "depthwise_channels_first", "depthwise_channels_last"])
def test_conv_with_fused_clamp(channels, group, hw):
    """Conv applies the clamp itself (in its inner loop for depthwise)."""
    rng = rng_for(f"convclamp{channels}{group}")
    x = rng.standard_normal((1, channels, hw, hw)).astype(np.float32)
    w = rng.standard_normal((channels, channels // group, 3, 3)).astype(np.float32)
    b = rng.standard_normal(channels).astype(np.float32)
    tensors = [Tensor("x", np.float32, x.shape), Tensor("w", np.float32, w.shape, w),
               Tensor("b", np.float32, b.shape, b), Tensor("y", np.float32, x.shape)]
    node = Node("conv", "Conv", ["x", "w", "b"], ["y"],
                {"group": group, "pads": [1, 1, 1, 1], "act_min": 0.0, "act_max": 6.0})
    g = _graph([node], tensors, ["x"], ["y"])
    unclamped = OrtRunner(_graph([Node("conv", "Conv", ["x", "w", "b"], ["y"],
                                       {"group": group, "pads": [1, 1, 1, 1]})],
                                 tensors, ["x"], ["y"])).run({"x": x})["y"]
    assert unclamped.min() < 0 and unclamped.max() > 6  # the clamp is exercised
    _check_both(g, {"x": x}, {"y": np.clip(unclamped, 0, 6)})


def test_lstm_batch_major_layout():
    """layout=1 (onnxruntime has no CPU kernel for it) equals layout=0 on transposed data:
    the interpreter against onnxruntime's layout-0 result, and the exporter's rewrite."""
    rng = rng_for("lstm_layout1")
    seq, batch, inp, hid = 5, 3, 4, 6
    x = rng.uniform(-1, 1, (batch, seq, inp)).astype(np.float32)
    h0 = rng.uniform(-0.5, 0.5, (batch, 2, hid)).astype(np.float32)
    c0 = rng.uniform(-0.5, 0.5, (batch, 2, hid)).astype(np.float32)
    wts = [rng.uniform(-0.6, 0.6, s).astype(np.float32) for s in ((2, 4 * hid, inp), (2, 4 * hid, hid), (2, 8 * hid))]
    seq_major = Case("lstm_l0", "LSTM", [("x", x.transpose(1, 0, 2).copy(), False), ("w", wts[0], True),
                                         ("r", wts[1], True), ("b", wts[2], True), ("lens", None, True),
                                         ("h0", h0.transpose(1, 0, 2).copy(), False),
                                         ("c0", c0.transpose(1, 0, 2).copy(), False)],
                     {"hidden_size": hid, "direction": "bidirectional"}, n_outputs=3, opset=14)
    ref = ort_run(seq_major.model(), seq_major.feeds)
    tensors = [Tensor("x", np.float32, x.shape), Tensor("h0", np.float32, h0.shape), Tensor("c0", np.float32, c0.shape),
               Tensor("w", np.float32, wts[0].shape, wts[0]), Tensor("r", np.float32, wts[1].shape, wts[1]),
               Tensor("b", np.float32, wts[2].shape, wts[2]), Tensor("y", np.float32, (batch, seq, 2, hid)),
               Tensor("yh", np.float32, (batch, 2, hid)), Tensor("yc", np.float32, (batch, 2, hid))]
    node = Node("lstm", "LSTM", ["x", "w", "r", "b", "", "h0", "c0"], ["y", "yh", "yc"],
                {"hidden_size": hid, "direction": "bidirectional", "layout": 1})
    g = _graph([node], tensors, ["x", "h0", "c0"], ["y", "yh", "yc"])
    want = {"y": ref["y0"].transpose(2, 0, 1, 3), "yh": ref["y1"].transpose(1, 0, 2), "yc": ref["y2"].transpose(1, 0, 2)}
    _check_both(g, {"x": x, "h0": h0, "c0": c0}, want)


# -- OrtRunner and errors ------------------------------------------------------------

def _chain_graph():
    rng = rng_for("chain")
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    tensors = [Tensor("x", np.float32, (1, 2, 6, 6)), Tensor("w", np.float32, w.shape, w),
               Tensor("c", np.float32, (1, 3, 6, 6)), Tensor("r", np.float32, (1, 3, 6, 6)),
               Tensor("p", np.float32, (1, 3, 1, 1))]
    nodes = [Node("conv", "Conv", ["x", "w"], ["c"], {"pads": [1, 1, 1, 1]}),
             Node("relu", "Relu", ["c"], ["r"]),
             Node("gap", "GlobalAveragePool", ["r"], ["p"])]
    return _graph(nodes, tensors, ["x"], ["p"])


def test_ort_runner_returns_intermediates_inputs_and_constants_by_ir_name():
    g = _chain_graph()
    x = rng_for("x").standard_normal((1, 2, 6, 6)).astype(np.float32)
    wanted = ["c", "r", "p", "x", "w"]
    theirs = OrtRunner(g, outputs=wanted).run({"x": x})
    ours = run_graph(g, {"x": x}, outputs=wanted)
    assert list(theirs) == wanted
    for name in wanted:
        np.testing.assert_allclose(theirs[name], ours[name], rtol=1e-5, atol=1e-5, err_msg=name)
    assert (theirs["r"] >= 0).all() and theirs["c"].min() < 0  # really the pre-Relu tensor


def test_ort_runner_rejects_unknown_tensor_and_bad_feeds():
    g = _chain_graph()
    with pytest.raises(ShapeError, match="no tensor"):
        OrtRunner(g, outputs=["nope"])
    runner = OrtRunner(g)
    with pytest.raises(ShapeError, match="expects"):
        runner.run({"x": np.zeros((1, 2, 5, 5), np.float32)})


def test_unsupported_op_names_op_and_node():
    g = _graph([Node("my_node", "FancyOp", ["x"], ["y"])],
               [Tensor("x", np.float32, (2,)), Tensor("y", np.float32, (2,))], ["x"], ["y"])
    with pytest.raises(UnsupportedOpError, match="my_node.*FancyOp") as info:
        run_graph(g, {"x": np.zeros(2, np.float32)})
    assert info.value.op_type == "FancyOp" and info.value.nodes == ["my_node"]


def test_bad_dtype_error_names_op_and_dtypes():
    g = _graph([Node("sq", "Sqrt", ["x"], ["y"])],
               [Tensor("x", np.int32, (2,)), Tensor("y", np.int32, (2,))], ["x"], ["y"])
    with pytest.raises(UnsupportedOpError, match=r"'sq' \(Sqrt\).*int32"):
        run_graph(g, {"x": np.array([4, 9], np.int32)})


def test_gather_nd_out_of_range_index_names_the_node():
    g = _graph([Node("lookup", "GatherND", ["x", "i"], ["y"])],
               [Tensor("x", np.float32, (2, 3)), Tensor("i", np.int64, (1, 2)), Tensor("y", np.float32, (1,))],
               ["x", "i"], ["y"])
    with pytest.raises(ShapeError, match=r"'lookup' \(GatherND\): an index is out of range .* \(2, 3\)"):
        run_graph(g, {"x": np.zeros((2, 3), np.float32), "i": np.array([[1, 3]], np.int64)})


def test_is_nan_of_an_integer_tensor_names_the_node():
    g = _graph([Node("guard", "IsNaN", ["x"], ["y"])],
               [Tensor("x", np.int64, (2,)), Tensor("y", np.bool_, (2,))], ["x"], ["y"])
    with pytest.raises(UnsupportedOpError, match=r"'guard' \(IsNaN\).*int64"):
        run_graph(g, {"x": np.array([1, 2], np.int64)})


def test_unsupported_mode_is_reported():
    case = Case("resize_cubic", "Resize", [("x", np.ones((1, 1, 2, 2), np.float32), False), ("roi", None, True),
                                            ("s", np.array([1, 1, 2, 2], np.float32), True)], {"mode": "cubic"}, opset=19)
    ref = ort_run(case.model(), case.feeds)
    with pytest.raises(UnsupportedOpError, match="mode='cubic'"):
        run_graph(direct_ir(case.model(), ref), case.feeds)


def test_exported_model_passes_the_onnx_checker():
    import onnx

    model = to_onnx(_chain_graph())
    onnx.checker.check_model(model, full_check=True)
    assert [o.name for o in model.graph.output] == ["p"]


def test_docs_list_every_registered_op():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "interpreter.md").read_text()
    section = text.split("### Supported ops", 1)[1].split("###", 1)[0]
    import re

    listed = set(re.findall(r"\b([A-Z][A-Za-z0-9]+)\b", section))
    missing = sorted(op for op in FLOAT_OPS.op_types if op not in listed)
    assert not missing, f"docs/interpreter.md does not list {missing}"
