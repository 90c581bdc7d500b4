"""edgeq.load / Model: specs, sha256, float run, summary (MACs, parameters, unsupported)."""

import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, ort_run, save  # noqa: E402

import edgeq  # noqa: E402
from edgeq.errors import ModelLoadError, ShapeError  # noqa: E402
from edgeq.interp.float_ops import FLOAT_OPS  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(0)


def small_cnn():
    """Conv(3->8, 3x3, pad 1) + BN + Relu on H x W, then Flatten + Gemm(8*H*W -> 10)."""
    inits = {"w": RNG.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3,
             "s": RNG.uniform(0.5, 1.5, 8).astype(np.float32), "b": RNG.standard_normal(8).astype(np.float32),
             "m": RNG.standard_normal(8).astype(np.float32), "v": RNG.uniform(0.5, 1.5, 8).astype(np.float32),
             "fc": RNG.standard_normal((200, 10)).astype(np.float32) * 0.1,
             "fcb": RNG.standard_normal(10).astype(np.float32)}
    nodes = [N("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
             N("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]), N("Relu", ["n"], ["r"]),
             N("Flatten", ["r"], ["f"]), N("Gemm", ["f", "fc", "fcb"], ["logits"])]
    return make_model(nodes, inputs={"image": ("N", 3, 5, 5)}, outputs={"logits": ("N", 10)}, initializers=inits)


def test_load_run_and_specs(tmp_path):
    path = save(small_cnn(), tmp_path / "cnn.onnx")
    model = edgeq.load(path, input_shapes={"image": (2, 3, 5, 5)})
    assert isinstance(model, edgeq.Model)
    assert model.path == path and model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(s.name, s.shape, s.dtype) for s in model.input_specs] == [("image", (2, 3, 5, 5), "float32")]
    assert [(s.name, s.shape, s.dtype) for s in model.output_specs] == [("logits", (2, 10), "float32")]
    assert model.graph.op_histogram() == {"Conv": 1, "Flatten": 1, "FullyConnected": 1}
    x = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
    got = model.run({"image": x})
    expected = ort_run(onnx.load(str(path)), {"image": x})
    np.testing.assert_allclose(got["logits"], expected["logits"], rtol=1e-4, atol=1e-4)
    with pytest.raises(ShapeError):
        model.run({"image": x[:1]})


def test_summary(tmp_path):
    path = save(small_cnn(), tmp_path / "cnn.onnx")
    s = edgeq.load(path, {"image": (1, 3, 5, 5)}).summary()
    assert s["inputs"] == [{"name": "image", "shape": [1, 3, 5, 5], "dtype": "float32"}]
    assert s["outputs"] == [{"name": "logits", "shape": [1, 10], "dtype": "float32"}]
    assert s["op_histogram"] == {"Conv": 1, "Flatten": 1, "FullyConnected": 1}
    # conv: 8*5*5 outputs x 3*3*3 taps; FC: 10 outputs x 200 inputs (hand-derived)
    assert s["macs_by_op"] == {"Conv": 8 * 5 * 5 * 27, "FullyConnected": 10 * 200}
    assert s["macs"] == 5400 + 2000
    # after BN folding: conv weight + bias, FC weight + bias
    assert s["parameters"] == 8 * 27 + 8 + 200 * 10 + 10
    assert s["parameter_bytes"] == 4 * s["parameters"]
    assert s["unsupported_nodes"] == [] and s["opset"] == 17 and s["sha256"]


def test_summary_lists_unsupported_nodes(tmp_path):
    # unary ops on a 3x3 matrix the float interpreter is unlikely to ever need
    candidates = {"Det": (), "Hardmax": (3, 3), "Trilu": (3, 3), "Shrink": (3, 3)}
    op = next((op for op in candidates if op not in FLOAT_OPS), None)
    if op is None:
        pytest.skip("the float interpreter implements every candidate op")
    nodes = [N("Relu", ["x"], ["r"]), N(op, ["r"], ["y"], name="odd_one")]
    model = make_model(nodes, inputs={"x": (3, 3)}, outputs={"y": candidates[op]})
    s = edgeq.load(save(model, tmp_path / "odd.onnx")).summary()
    assert s["unsupported_nodes"] == [{"name": "odd_one", "op_type": op, "domain": ""}]


def test_lstm_and_matmul_macs(tmp_path):
    hidden, features, seq = 4, 3, 5
    inits = {"W": RNG.standard_normal((1, 4 * hidden, features)).astype(np.float32),
             "R": RNG.standard_normal((1, 4 * hidden, hidden)).astype(np.float32)}
    nodes = [N("LSTM", ["x", "W", "R"], ["seq_out"], hidden_size=hidden),
             N("MatMul", ["seq_out", "z"], ["y"])]
    model = make_model(nodes, inputs={"x": (seq, 2, features), "z": (hidden, 6)},
                       outputs={"y": None}, initializers=inits)
    s = edgeq.load(save(model, tmp_path / "lstm.onnx")).summary()
    assert s["macs_by_op"]["LSTM"] == seq * 2 * 4 * hidden * (features + hidden)
    assert s["macs_by_op"]["MatMul"] == seq * 1 * 2 * 6 * hidden


def test_load_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="missing.onnx"):
        edgeq.load(tmp_path / "missing.onnx")
    path = save(small_cnn(), tmp_path / "cnn.onnx")
    with pytest.raises(ShapeError, match="--input image:1x3x5x5"):
        edgeq.load(path)


def test_external_data_hash_covers_the_weights(tmp_path):
    model = small_cnn()
    path = tmp_path / "ext.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="w.bin", size_threshold=0)
    first = edgeq.load(path, {"image": (1, 3, 5, 5)}).sha256
    data = bytearray((tmp_path / "w.bin").read_bytes())
    data[10] ^= 0xFF
    (tmp_path / "w.bin").write_bytes(bytes(data))
    assert edgeq.load(path, {"image": (1, 3, 5, 5)}).sha256 != first
