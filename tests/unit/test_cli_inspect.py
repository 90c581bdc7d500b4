"""``edgeq inspect``: numbers derived by hand from a small model, and the real zoo models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeq.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def small_cnn(tmp_path) -> Path:
    """Conv(3->8, 3x3, pad 1) + BatchNorm + Relu + GlobalAveragePool + Flatten + Gemm(8->10)
    at a dynamic batch; BatchNorm folds into the conv and Gemm becomes FullyConnected."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(f32), "conv_w"),
        numpy_helper.from_array(rng.standard_normal(8).astype(f32), "conv_b"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 8).astype(f32), "bn_scale"),
        numpy_helper.from_array(rng.standard_normal(8).astype(f32), "bn_bias"),
        numpy_helper.from_array(rng.standard_normal(8).astype(f32), "bn_mean"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 8).astype(f32), "bn_var"),
        numpy_helper.from_array(rng.standard_normal((10, 8)).astype(f32), "fc_w"),
        numpy_helper.from_array(rng.standard_normal(10).astype(f32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"],
                         name="bn1"),
        helper.make_node("Relu", ["bn"], ["r"], name="relu1"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "small_cnn",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                              initializer=inits)
    path = tmp_path / "small_cnn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_inspect_json_numbers_match_hand_derivation(capsys, small_cnn):
    rc, out, err = run(capsys, "inspect", str(small_cnn), "--input", "image:2x3x32x32", "--json")
    assert rc == 0, err
    s = json.loads(out)
    assert s["inputs"] == [{"name": "image", "shape": [2, 3, 32, 32], "dtype": "float32"}]
    assert s["outputs"] == [{"name": "logits", "shape": [2, 10], "dtype": "float32"}]
    # after canonicalisation: BN folded into the conv, Relu fused, Gemm -> FullyConnected
    hist = s["op_histogram"]
    assert "BatchNormalization" not in hist and "Gemm" not in hist
    assert hist.get("Conv") == 1 and hist.get("FullyConnected") == 1
    # parameters: conv 8*3*3*3 + 8 bias, fc 10*8 + 10 (BN's four vectors fold away)
    assert s["parameters"] == 8 * 27 + 8 + 10 * 8 + 10
    assert s["parameter_bytes"] == 4 * s["parameters"]
    # MACs: each conv output element (2*8*32*32) sums 3*3*3 products; fc 2*10 outputs * 8
    assert s["macs"] == 2 * 8 * 32 * 32 * 27 + 2 * 10 * 8
    assert s["unsupported_nodes"] == []
    assert len(s["sha256"]) == 64


def test_inspect_table(capsys, small_cnn):
    rc, out, _ = run(capsys, "inspect", str(small_cnn), "--input", "image:1x3x32x32")
    assert rc == 0
    for text in ("image", "1x3x32x32", "logits", "1x10", "FullyConnected", "Conv",
                 f"{8 * 27 + 8 + 90:,}", f"{8 * 32 * 32 * 27 + 80:,}", "every node is supported"):
        assert text in out, text


@pytest.mark.slow
@pytest.mark.parametrize("name, inputs", [
    ("mobilenet-v2", []), ("ppocr-cls", ["x:1x3x48x192"]), ("silero-vad", []), ("minilm-l6", []),
])
def test_inspect_zoo_models(capsys, name, inputs):
    import edgeq.zoo

    path = edgeq.zoo.get(name)
    argv = ["inspect", str(path), "--json"] + [a for i in inputs for a in ("--input", i)]
    rc, out, err = run(capsys, *argv)
    assert rc == 0, err
    s = json.loads(out)
    assert s["unsupported_nodes"] == [], s["unsupported_nodes"]
    assert s["parameters"] > 0 and s["macs"] > 0
    # the weights the summary counts are the model's own float constants (initializers and
    # Constant nodes, in every subgraph), up to folding
    model = onnx.load(str(path))
    tensors = [t for g in _graphs(model.graph) for t in list(g.initializer) + [
        a.t for n in g.node if n.op_type == "Constant" for a in n.attribute if a.name == "value"]]
    raw = sum(int(np.prod(t.dims)) for t in tensors if t.data_type == TensorProto.FLOAT)
    assert 0.9 * raw <= s["parameters"] <= 1.1 * raw + 10_000


def _graphs(graph):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attr.g)


def test_inspect_says_per_target_which_nodes_run_in_integer(tmp_path, capsys):
    # Conv (integer) -> Softplus (no integer kernel on TFLite) -> linear Resize in a mode
    # RESIZE_BILINEAR lacks -> Silu pattern (integer once lowered to LOGISTIC·x)
    rng = np.random.default_rng(0)
    f32 = np.float32
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(f32), "w"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], f32), "scales")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Softplus", ["c"], ["p"], name="softplus"),
             helper.make_node("Resize", ["p", "", "scales"], ["r"], name="upsample", mode="linear",
                              coordinate_transformation_mode="half_pixel_symmetric"),
             helper.make_node("Sigmoid", ["r"], ["s"], name="act/Sigmoid"),
             helper.make_node("Mul", ["r", "s"], ["y"], name="act/Mul")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])], inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    rc, out, _ = run(capsys, "inspect", str(path), "--json")
    assert rc == 0
    tfl = json.loads(out)["targets"]["tflite"]
    why = {n["node"]: n["reason"] for n in tfl["unsupported"]}
    assert why == {"softplus": "no integer kernel for op type 'Softplus' on tflite",
                   "upsample": "linear Resize with coordinate_transformation_mode 'half_pixel_symmetric' "
                               "(integer kernels for asymmetric, half_pixel, pytorch_half_pixel, "
                               "align_corners)"}
    assert tfl["float"] == []  # the default profile allows no float fallback
    assert tfl["integer"] == 3  # conv, and the Silu as Sigmoid + Mul
    rc, out, _ = run(capsys, "inspect", str(path))
    flat = " ".join(out.split())  # the console wraps long lines
    assert "tflite (tflite-strict): 3 node(s) run in integer" in flat
    assert "0 would stay in float, 2 cannot be built" in flat
    assert "softplus" in out and "upsample" in out  # the table names the nodes (reasons may wrap)


@pytest.fixture
def tflite_artifact(tmp_path, small_cnn) -> Path:
    import edgeq

    rng = np.random.default_rng(1)
    feeds = [{"image": rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)} for _ in range(2)]
    arts = edgeq.build(str(small_cnn), targets=["tflite"], calibration=feeds,
                       input_shapes={"image": (1, 3, 32, 32)}, output_dir=tmp_path / "build", progress=False)
    return arts["tflite"].path


def test_inspect_artifact_reads_the_model_file(capsys, tflite_artifact):
    rc, out, err = run(capsys, "inspect", str(tflite_artifact), "--json")
    assert rc == 0, err
    s = json.loads(out)
    assert s["target"] == "tflite" and s["checked"] == ["manifest", "sha256", "flatbuffer"]
    # the ops are counted in the flatbuffer itself: the canonical graph's Conv and
    # FullyConnected, with the float I/O's QUANTIZE/DEQUANTIZE at the boundary
    assert s["ops"]["CONV_2D"] == 1 and s["ops"]["FULLY_CONNECTED"] == 1
    assert s["ops"]["QUANTIZE"] == 1 and s["ops"]["DEQUANTIZE"] == 1
    assert s["model"]["inputs"][0]["shape"] == [1, 32, 32, 3]  # NHWC in the file
    assert s["inputs"][0]["source_shape"] == [1, 3, 32, 32]
    assert s["files"]["model.tflite"] == (tflite_artifact / "model.tflite").stat().st_size
    rc, out, _ = run(capsys, "inspect", str(tflite_artifact))
    assert rc == 0 and "CONV_2D" in out and "flatbuffer" in out


def test_inspect_corrupt_artifact_names_the_file(capsys, tflite_artifact):
    from edgeq.contracts import Artifact

    model = tflite_artifact / "model.tflite"
    data = bytearray(model.read_bytes())
    data[0:4] = (len(data) + 100).to_bytes(4, "little")  # a root offset past the end
    model.write_bytes(bytes(data))
    rc, _, err = run(capsys, "inspect", str(tflite_artifact))
    assert rc == 1 and "Traceback" not in err
    assert "model.tflite" in err and "modified since the build" in err
    # with the manifest's hashes rewritten the flatbuffer verifier catches it
    art = Artifact.load(tflite_artifact)
    art.write_manifest()
    rc, _, err = run(capsys, "inspect", str(tflite_artifact))
    assert rc == 1 and "Traceback" not in err
    assert "model.tflite: not a valid TFLite model: root offset" in err, err


def test_inspect_artifact_refuses_input_shapes(capsys, tflite_artifact):
    rc, _, err = run(capsys, "inspect", str(tflite_artifact), "--input", "image:1x3x32x32")
    assert rc == 2 and "--input applies to ONNX models" in err
