"""The QuantizedGraph contract (docs/quantization.md) on real quantizations of small
models: boundary nodes, storage types, same-scale and fixed-scale constraints, per-channel
weights, bias scales, int16 converters, float fallback; and the integer simulator's
result against onnxruntime's float result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _quant_models import (cnn_feeds, ort_run, save, small_cnn, sqnr_db, tiny_transformer,
                           transformer_feeds)

import edgeq
from edgeq.errors import QuantizationError
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.pipeline.graph_builder import build_quantized_graph
from edgeq_tflite.spec import TFLITE_INT8, TFLITE_INT8_FALLBACK
from edgeq.types import QDType


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    model = small_cnn()
    path = save(model, tmp_path_factory.mktemp("cnn") / "cnn.onnx")
    m = edgeq.load(path)
    qm = edgeq.quantize(m, cnn_feeds(24), progress=False, use_cache=False)
    return model, m, qm


@pytest.fixture(scope="module")
def transformer(tmp_path_factory):
    model = tiny_transformer()
    path = save(model, tmp_path_factory.mktemp("tr") / "tr.onnx")
    m = edgeq.load(path)
    qm = edgeq.quantize(m, transformer_feeds(24), progress=False, use_cache=False)
    return model, m, qm


def _producer(g: Graph, name: str) -> Node:
    return g.producers()[name]


def test_boundary_nodes_and_storage_types(cnn):
    _, m, qm = cnn
    g = qm.graph
    assert g.inputs == ["x"] and g.outputs == ["probs"]
    assert g.tensors["x"].dtype == np.float32 and g.tensors["probs"].dtype == np.float32
    first = g.consumers()["x"]
    assert [n.op_type for n in first] == ["Quantize"]
    assert _producer(g, "probs").op_type == "Dequantize"
    for t in g.tensors.values():
        if t.dtype.kind == "i" and t.dtype != np.int64:
            assert t.quant is not None, t.name
            assert t.quant.dtype.numpy == t.dtype, t.name
        if t.quant is not None:
            assert t.dtype.kind == "i", t.name


def test_weights_per_channel_and_bias_scale(cnn):
    _, _, qm = cnn
    g = qm.graph
    for node in g.nodes:
        if node.op_type not in ("Conv", "FullyConnected"):
            continue
        x, w, b = (g.tensors[n] for n in node.inputs[:3])
        assert w.dtype == np.int8 and w.quant.axis == 0 and w.data.min() >= -127
        assert np.all(w.quant.zero_point == 0) and w.quant.scale.size == w.shape[0]
        assert b.dtype == np.int32 and np.all(b.quant.zero_point == 0)
        np.testing.assert_allclose(b.quant.scale, x.quant.scale[0] * w.quant.scale, rtol=1e-6)


def test_same_scale_and_fixed_scale_constraints(cnn):
    _, _, qm = cnn
    g = qm.graph
    for node in g.nodes:
        if node.op_type in ("MaxPool", "Flatten", "Reshape"):
            qi, qo = g.tensors[node.inputs[0]].quant, g.tensors[node.outputs[0]].quant
            assert qi.scale[0] == qo.scale[0] and qi.zero_point[0] == qo.zero_point[0], node.name
        if node.op_type == "Softmax":
            qo = g.tensors[node.outputs[0]].quant
            assert qo.scale[0] == np.float32(1 / 256) and int(qo.zero_point[0]) == -128


def test_fused_relu6_output_covers_its_clamp(cnn):
    _, _, qm = cnn
    g = qm.graph
    dw = next(n for n in g.nodes if n.op_type == "Conv" and n.attrs.get("group", 1) > 1)
    assert dw.attrs["act_min"] == 0.0 and dw.attrs["act_max"] == 6.0
    q = g.tensors[dw.outputs[0]].quant
    assert int(q.zero_point[0]) == -128  # the range starts at 0 exactly


def test_integer_simulation_matches_onnxruntime(cnn):
    model, _, qm = cnn
    for feed in cnn_feeds(6, seed=9):
        ref = ort_run(model, feed)["probs"]
        out = qm.run(feed)["probs"]
        assert sqnr_db(ref, out) > 25
        assert np.argmax(ref) == np.argmax(out)


def test_integer_io(cnn):
    _, _, qm = cnn
    feed = cnn_feeds(1, seed=3)[0]
    xq = qm.graph.tensors[qm.tensor_map["x"]].quant.quantize(feed["x"])
    out = qm.run({"x": xq}, integer_io=True)["probs"]
    assert out.dtype == np.int8
    deq = qm.graph.tensors[_producer(qm.graph, "probs").inputs[0]].quant.dequantize(out)
    np.testing.assert_allclose(deq, qm.run(feed)["probs"], atol=1e-7)


def test_transformer_ops_are_integer(transformer):
    model, _, qm = transformer
    g = qm.graph
    float_nodes = [n for n in g.nodes if n.op_type not in ("Dequantize", "Cast")
                   and any(g.tensors[o].dtype.kind == "f" for o in n.outputs if o)]
    assert float_nodes == []
    ops = {n.op_type for n in g.nodes}
    assert {"MatMul", "Softmax", "Gelu", "Gather", "Rsqrt", "ReduceMean"} <= ops
    assert "LayerNormalization" not in ops and "Div" not in ops
    gather = next(n for n in g.nodes if n.op_type == "Gather")
    table = g.tensors[gather.inputs[0]]
    assert table.dtype == np.int8 and table.quant is not None
    assert table.quant.scale[0] == g.tensors[gather.outputs[0]].quant.scale[0]
    # the mask constant (-1e9) never reaches a range: the mask add's range is finite and small
    add = next(n for n in g.nodes if n.name == "mask_add")
    lo = g.tensors[add.outputs[0]].quant
    assert float(lo.scale[0]) * 255 < 1000


def test_transformer_simulation_matches_onnxruntime(transformer):
    model, _, qm = transformer
    scores = [sqnr_db(ort_run(model, f)["pooled"], qm.run(f)["pooled"]) for f in transformer_feeds(6, seed=7)]
    assert min(scores) > 20


def test_layernorm_statistics_are_int16(transformer):
    _, _, qm = transformer
    g = qm.graph
    rsqrt = [n for n in g.nodes if n.op_type == "Rsqrt"]
    assert rsqrt and all(g.tensors[n.outputs[0]].dtype == np.int16 for n in rsqrt)
    assert any(n.startswith("ln0/") for n in qm.report["int16_nodes"])


def _graph_with(op_type: str) -> Graph:
    g = Graph("g")
    g.tensors = {"x": Tensor("x", np.float32, (1, 4)), "y": Tensor("y", np.float32, (1, 4)),
                 "z": Tensor("z", np.float32, (1, 4))}
    g.inputs, g.outputs = ["x"], ["z"]
    g.nodes = [Node("odd", op_type, ["x"], ["y"]), Node("relu", "Relu", ["y"], ["z"])]
    return g


def test_unsupported_op_without_fallback_names_the_node():
    g = _graph_with("Erf")
    with pytest.raises(QuantizationError, match="allows no float fallback for them: 'odd' \\(Erf\\)"):
        build_quantized_graph(g, lambda n, d: (-1.0, 1.0), TFLITE_INT8)


def test_float_fallback_is_wrapped_and_reported():
    g = _graph_with("Erf")
    res = build_quantized_graph(g, lambda n, d: (-1.0, 1.0), TFLITE_INT8_FALLBACK)
    assert res.fallback == [("odd", "Erf", "no integer kernel for op type 'Erf'")]
    q = res.graph
    odd = q.node_by_name("odd")
    assert q.tensors[odd.inputs[0]].dtype == np.float32 and q.tensors["y"].dtype == np.float32
    relu = q.node_by_name("relu")
    assert q.producers()[relu.inputs[0]].op_type == "Quantize"


def test_int16_override_inserts_converters_and_int64_bias():
    g = Graph("g")
    rng = np.random.default_rng(0)
    g.tensors = {"x": Tensor("x", np.float32, (1, 4)), "h": Tensor("h", np.float32, (1, 3)),
                 "y": Tensor("y", np.float32, (1, 3)),
                 "w": Tensor("w", np.float32, (3, 4), rng.normal(size=(3, 4)).astype(np.float32)),
                 "b": Tensor("b", np.float32, (3,), rng.normal(size=3).astype(np.float32))}
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes = [Node("fc", "FullyConnected", ["x", "w", "b"], ["h"]), Node("relu", "Relu", ["h"], ["y"])]
    res = build_quantized_graph(g, lambda n, d: (-2.0, 2.0), TFLITE_INT8, int16_nodes={"fc"})
    q = res.graph
    fc = q.node_by_name("fc")
    assert q.tensors[fc.inputs[0]].dtype == np.int16 and q.tensors["h"].dtype == np.int16
    assert q.tensors[fc.inputs[2]].dtype == np.int64
    assert q.tensors[fc.inputs[2]].quant.dtype == QDType.INT64
    relu = q.node_by_name("relu")
    conv = q.producers()[relu.inputs[0]]
    assert conv.op_type == "Quantize" and q.tensors[relu.inputs[0]].dtype == np.int8
    assert res.precision == {"fc": "int16", "relu": "int8"}


def test_int16_ignored_when_spec_has_none():
    g = _graph_with("Relu")
    spec = dataclasses.replace(TFLITE_INT8, activation_dtypes=(QDType.INT8,))
    res = build_quantized_graph(g, lambda n, d: (-1.0, 1.0), spec, int16_nodes={"odd"})
    assert res.precision["odd"] == "int8"


def test_concat_shares_one_scale():
    g = Graph("g")
    g.tensors = {n: Tensor(n, np.float32, (1, 2)) for n in ("a", "b", "ra", "rb")}
    g.tensors["c"] = Tensor("c", np.float32, (1, 4))
    g.inputs, g.outputs = ["a", "b"], ["c"]
    g.nodes = [Node("ra", "Relu", ["a"], ["ra"]), Node("rb", "Relu", ["b"], ["rb"]),
               Node("cat", "Concat", ["ra", "rb"], ["c"], {"axis": 1})]
    ranges = {"a": (-1, 1), "b": (-5, 5), "ra": (0, 1), "rb": (0, 5), "c": (0, 5)}
    q = build_quantized_graph(g, lambda n, d: ranges[n], TFLITE_INT8).graph
    cat = q.node_by_name("cat")
    params = {(float(q.tensors[n].quant.scale[0]), int(q.tensors[n].quant.zero_point[0]))
              for n in list(cat.inputs) + [q.producers()["c"].inputs[0]]}
    assert len(params) == 1
    scale, zp = params.pop()
    assert np.isclose(scale * (127 - zp), 5.0, rtol=1e-6)  # the union of the ranges
