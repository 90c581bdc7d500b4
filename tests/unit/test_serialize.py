"""Saving and loading quantized models without pickle: exact round trips in both
layouts, identical simulation results, and clear errors for bad files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq
from edgeq.errors import ModelLoadError, QuantizationError
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.quantize.io import serialize
from edgeq.quantize.api import QuantizedModel
from edgeq.types import QDType, QuantParams


def _graph() -> Graph:
    g = Graph("g", opset=18, metadata={"k": "v"})
    g.tensors = {
        "x": Tensor("x", np.float32, (1, 4)),
        "w": Tensor("w", np.int8, (3, 4), np.arange(12, dtype=np.int8).reshape(3, 4) - 6,
                    QuantParams(np.array([0.1, 0.2, 0.3]), np.zeros(3), QDType.INT8, 0)),
        "b": Tensor("b", np.int64, (3,), np.array([2**40, -1, 0], np.int64),
                    QuantParams(np.array([1e-5, 2e-5, 3e-5]), np.zeros(3), QDType.INT64, 0)),
        "y": Tensor("y", np.int16, (1, 3), None, QuantParams(np.array([0.5]), np.array([0]), QDType.INT16)),
    }
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes = [Node("fc", "FullyConnected", ["x", "w", "b"], ["y"],
                    {"act_min": 0.0, "act_max": float("inf"), "perm": [0, 2, 1], "mode": "reflect",
                     "value": np.array([1.5], np.float32), "raw": b"\x00\x01", "nested": [[1, 2], [3]],
                     "nan": float("nan")})]
    return g


def _same_graph(a: Graph, b: Graph) -> None:
    assert (a.name, a.inputs, a.outputs, a.opset, a.metadata) == (b.name, b.inputs, b.outputs, b.opset, b.metadata)
    assert list(a.tensors) == list(b.tensors)
    for name, t in a.tensors.items():
        u = b.tensors[name]
        assert (t.dtype, t.shape) == (u.dtype, u.shape), name
        if t.data is None:
            assert u.data is None
        else:
            assert u.data.dtype == t.data.dtype
            np.testing.assert_array_equal(u.data, t.data)
        assert (t.quant is None) == (u.quant is None)
        if t.quant is not None:
            assert t.quant.to_json() == u.quant.to_json()
    for n, m in zip(a.nodes, b.nodes):
        assert (n.name, n.op_type, n.inputs, n.outputs, n.domain) == (m.name, m.op_type, m.inputs, m.outputs, m.domain)
        assert set(n.attrs) == set(m.attrs)
        for k, v in n.attrs.items():
            w = m.attrs[k]
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(v, w)
            elif isinstance(v, float) and np.isnan(v):
                assert np.isnan(w)
            else:
                assert v == w, k


@pytest.mark.parametrize("name", ["model.edgeq", "model_dir"])
def test_graph_round_trip(tmp_path, name):
    g = _graph()
    path = serialize.save(tmp_path / name, {"quantized": g}, {"note": "x", "inf": float("-inf")})
    graphs, meta = serialize.load(path)
    _same_graph(g, graphs["quantized"])
    assert meta == {"note": "x", "inf": float("-inf")}


def test_file_is_json_and_npz_without_pickle(tmp_path):
    path = serialize.save(tmp_path / "m.edgeq", {"quantized": _graph()}, {})
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["constants.npz", "model.json"]
        doc = json.loads(zf.read("model.json"))  # strict JSON: no NaN/Infinity literals
        assert doc["format"] == "edgeq.quantized" and doc["version"] == 1
        with np.load(io.BytesIO(zf.read("constants.npz")), allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)


def test_unsaveable_attribute_is_an_error(tmp_path):
    g = _graph()
    g.nodes[0].attrs["bad"] = object()
    with pytest.raises(QuantizationError, match="node 'fc' attribute 'bad'"):
        serialize.save(tmp_path / "m.edgeq", {"quantized": g}, {})


def test_bad_files(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        serialize.load(tmp_path / "missing.edgeq")
    junk = tmp_path / "junk.edgeq"
    junk.write_bytes(b"definitely not a zip")
    with pytest.raises(ModelLoadError, match="junk.edgeq' is not an edgeq quantized model"):
        serialize.load(junk)
    other = tmp_path / "other.edgeq"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("model.json", json.dumps({"format": "something-else"}))
        zf.writestr("constants.npz", b"")
    with pytest.raises(ModelLoadError, match="format 'something-else'"):
        serialize.load(other)
    newer = tmp_path / "newer.edgeq"
    path = serialize.save(newer, {"quantized": _graph()}, {})
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("model.json"))
        npz = zf.read("constants.npz")
    doc["version"] = 99
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.json", json.dumps(doc))
        zf.writestr("constants.npz", npz)
    with pytest.raises(ModelLoadError, match="newer edgeq"):
        serialize.load(path)


def test_quantized_model_round_trip_runs_identically(tmp_path):
    m = edgeq.load(save(small_cnn(), tmp_path / "cnn.onnx"))
    qm = edgeq.quantize(m, cnn_feeds(8), progress=False, use_cache=False)
    path = qm.save(tmp_path / "cnn.edgeq")
    back = QuantizedModel.load(path)
    _same_graph(qm.graph, back.graph)
    _same_graph(qm.float_graph, back.float_graph)
    assert back.tensor_map == qm.tensor_map and back.spec_name == "tflite-int8"
    assert back.calibration_fingerprint == qm.calibration_fingerprint
    assert back.report["int16_nodes"] == qm.report["int16_nodes"]
    for feed in cnn_feeds(3, seed=4):
        np.testing.assert_array_equal(back.run(feed)["probs"], qm.run(feed)["probs"])
