"""The Core ML emitter on small synthetic models: the artifact, its manifest and
metadata, what the saved program stores, and its numpy interpretation against edgeq's
integer simulator (tolerance derived in docs/targets/coreml.md, "Verification")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.sdk import (BuildError, BuildOptions, Graph, Node, Tensor, UnsupportedOpError,
                       UsageError, run_graph, run_quantized)

from edgeq_coreml.tests.conftest import QModel, build
from edgeq_coreml.verify import load_program, run_program


def _ops(artifact) -> list[str]:
    return [op.op_type for op in load_program(artifact.path / "model.mlpackage").operations]


def _output_scale(graph) -> float:
    """Scale of the int8 tensor the output Dequantize reads."""
    out = graph.outputs[0]
    node = next(n for n in graph.nodes if out in n.outputs)
    return float(graph.tensors[node.inputs[0]].quant.scale[0])


def test_manifest_and_metadata(cnn_artifact):
    import coremltools as ct

    m = cnn_artifact.manifest
    assert m["target"] == "ane" and m["model_file"] == "model.mlpackage"
    assert "coremltools" in m["tool_versions"] and m["calibration_fingerprint"] == "calib-test"
    assert m["inputs"][0]["name"] == "image" and m["inputs"][0]["shape"] == [1, 3, 32, 32]
    assert m["inputs"][0]["dtype"] == "float32"
    assert any(f.endswith("weight.bin") for f in m["files"])
    cnn_artifact.verify()
    spec = ct.models.MLModel(str(cnn_artifact.path / "model.mlpackage"), skip_model_load=True).get_spec()
    meta = dict(spec.description.metadata.userDefined)
    assert spec.description.metadata.author == "edgeq"
    assert meta["edgeq.calibration_fingerprint"] == "calib-test"
    assert meta["edgeq.precision"] == "int8" and "edgeq.edgeq_version" in meta
    assert "per output channel" in json.loads(meta["edgeq.quantization_scheme"])["weights"]
    # iOS17 = specification version 8
    assert spec.specificationVersion == 8


def test_program_is_w8a8(cnn, cnn_artifact):
    ops = _ops(cnn_artifact)
    n_weighted = sum(1 for n in cnn.graph.nodes if n.op_type in ("Conv", "FullyConnected"))
    assert ops.count("constexpr_affine_dequantize") == n_weighted
    assert ops.count("quantize") >= n_weighted and "conv" in ops and "linear" in ops
    prog = load_program(cnn_artifact.path / "model.mlpackage")
    w = next(op for op in prog.operations if op.op_type == "constexpr_affine_dequantize")
    assert w.inputs["quantized_data"].val.dtype == np.int8
    assert np.asarray(w.inputs["scale"].val).size == w.inputs["quantized_data"].val.shape[0]


def test_interpreted_program_matches_simulator_cnn(cnn, cnn_artifact):
    prog = load_program(cnn_artifact.path / "model.mlpackage")
    scale = _output_scale(cnn.graph)
    for feed in cnn.feeds:
        got = run_program(prog, feed)["t20" if "t20" in prog.outputs else prog.outputs[0]]
        sim = run_quantized(cnn.graph, feed)[cnn.graph.outputs[0]]
        # docs/targets/coreml.md: one output LSB from fp16 storage / rounding at the last quantize
        assert np.abs(got - sim).max() <= 1.01 * scale


def test_interpreted_program_matches_simulator_transformer(transformer, transformer_artifact):
    from edgeq.sdk import sqnr_db

    prog = load_program(transformer_artifact.path / "model.mlpackage")
    scale = _output_scale(transformer.graph)
    for feed in transformer.feeds:
        got = run_program(prog, feed)[prog.outputs[0]]
        sim = run_quantized(transformer.graph, feed)[transformer.graph.outputs[0]]
        ref = run_graph(transformer.float_graph, feed)[transformer.float_graph.outputs[0]]
        # in output steps: the program's output is an int8 level dequantized and stored
        # in fp16, whose rounding (<= 2^-11 relative) is removed by rounding to a step
        diff = np.round(np.abs(got - sim) / scale)
        # a few steps where a rounding difference passes through LayerNorm and softmax
        assert np.percentile(diff, 99) <= 3 and diff.max() <= 8, (diff.max(), np.percentile(diff, 99))
        assert sqnr_db(ref, got) >= sqnr_db(ref, sim) - 3


def test_saved_values_are_used(cnn_artifact):
    """ct.convert stores an int8 quantize with zero point -128 as uint8 / zero point 0
    and rounds scales to fp16; the interpreter reads those values, not edgeq's."""
    prog = load_program(cnn_artifact.path / "model.mlpackage")
    quants = [op for op in prog.operations if op.op_type == "quantize"]
    dtypes = {str(op.inputs["output_dtype"].val) for op in quants}
    assert "uint8" in dtypes
    for op in quants:
        s = np.asarray(op.inputs["scale"].val)
        assert s.dtype == np.float16


def test_unsupported_op_names_the_node(tmp_path):
    g = Graph("bad")
    g.tensors["x"] = Tensor("x", np.float32, (1, 4))
    g.tensors["y"] = Tensor("y", np.float32, (1, 4))
    g.inputs, g.outputs = ["x"], ["y"]
    g.nodes.append(Node("the_hardmax", "Hardmax", ["x"], ["y"], {}))
    from edgeq_coreml.target import build_artifact

    with pytest.raises(UnsupportedOpError, match="the_hardmax") as exc:
        build_artifact(QModel(g, g), tmp_path / "ane", BuildOptions(precision="fp16"))
    assert "Hardmax" in str(exc.value)
    assert not (tmp_path / "ane").exists()


def test_w8a8_needs_ios17(cnn, tmp_path):
    with pytest.raises(BuildError, match="iOS17"):
        build(cnn, tmp_path, minimum_deployment_target="iOS16")


def test_option_errors(cnn, tmp_path):
    with pytest.raises(UsageError, match="weights"):
        build(cnn, tmp_path, weights="int4")
    with pytest.raises(UsageError, match="inputs"):
        build(cnn, tmp_path, inputs="video")


@pytest.mark.parametrize("weights,precision,expect_int8", [("int8", "fp16", True), ("fp16", "fp16", False)])
def test_float_profiles(cnn, tmp_path, weights, precision, expect_int8):
    art = build(cnn, tmp_path, precision=precision, weights=weights)
    ops = _ops(art)
    assert ("constexpr_affine_dequantize" in ops) == expect_int8
    assert "quantize" not in ops
    prog = load_program(art.path / "model.mlpackage")
    fg = cnn.float_graph
    for feed in cnn.feeds:
        got = run_program(prog, feed)[prog.outputs[0]]
        ref = run_graph(fg, feed)[fg.outputs[0]]
        # softmax probabilities: fp16 (and int8 weights) keep them within a few hundredths
        assert np.abs(got - ref).max() < (0.05 if expect_int8 else 0.01)


def test_ios18_blockwise_weights(cnn, cnn_artifact, tmp_path):
    art = build(cnn, tmp_path, minimum_deployment_target="iOS18")
    ops = _ops(art)
    assert "constexpr_blockwise_shift_scale" in ops and "constexpr_affine_dequantize" not in ops
    prog18 = load_program(art.path / "model.mlpackage")
    prog17 = load_program(cnn_artifact.path / "model.mlpackage")
    for feed in cnn.feeds:
        np.testing.assert_array_equal(run_program(prog18, feed)[prog18.outputs[0]],
                                      run_program(prog17, feed)[prog17.outputs[0]])


def test_image_input_and_labels(cnn, tmp_path):
    pre = {"input_name": "image", "color": "RGB", "scale": 1 / 127.5, "mean": [1.0, 1.0, 1.0],
           "std": [1.0, 1.0, 1.0]}
    labels = [f"class{i}" for i in range(10)]
    art = build(cnn, tmp_path, inputs="image", preprocessing=pre, labels=labels)
    assert art.manifest["inputs"][0]["dtype"] == "image"
    assert art.manifest["coreml"]["labels"] == labels
    prog = load_program(art.path / "model.mlpackage")
    assert "image" in prog.image_inputs
    import coremltools as ct

    spec = ct.models.MLModel(str(art.path / "model.mlpackage"), skip_model_load=True).get_spec()
    assert spec.description.predictedFeatureName and spec.description.predictedProbabilitiesName
    # pixels in 0..255 through the image scaling and the in-program normalisation equal
    # the normalised tensor fed to the tensor-input build
    pixels = np.random.default_rng(1).integers(0, 256, (1, 3, 32, 32)).astype(np.float32)
    from edgeq_coreml.runners._io import from_model

    out = from_model(art.manifest, run_program(prog, {"image": pixels}))[cnn.graph.outputs[0]]
    sim = run_quantized(cnn.graph, {"image": pixels / 127.5 - 1.0})[cnn.graph.outputs[0]]
    assert np.abs(out - sim).max() <= 2 * _output_scale(cnn.graph)


def test_compaction_keeps_the_program(cnn, cnn_artifact, tmp_path):
    """Merged constants and short names: a smaller spec that computes the same values."""
    plain = build(cnn, tmp_path, compact=False)
    spec_of = lambda a: (a.path / "model.mlpackage" / "Data" / "com.apple.CoreML" / "model.mlmodel")  # noqa: E731
    assert spec_of(cnn_artifact).stat().st_size < 0.8 * spec_of(plain).stat().st_size
    assert cnn_artifact.manifest["coreml"]["compaction"]["merged_constants"] > 0
    p1 = load_program(cnn_artifact.path / "model.mlpackage")
    p2 = load_program(plain.path / "model.mlpackage")
    assert p1.inputs == p2.inputs and p1.outputs == p2.outputs
    for feed in cnn.feeds:
        np.testing.assert_array_equal(run_program(p1, feed)[p1.outputs[0]], run_program(p2, feed)[p2.outputs[0]])


def test_variadic_max_and_constant_gather(tmp_path):
    """ONNX Max with three operands is a chain; a Gather with constant contiguous indices
    becomes a slice (no gather for the Neural Engine pre-flight to flag)."""
    g = Graph("g")
    for n in ("a", "b", "c"):
        g.tensors[n] = Tensor(n, np.float32, (2, 3))
    g.tensors["m"] = Tensor("m", np.float32, (2, 3))
    g.tensors["i"] = Tensor("i", np.int64, (), np.array(1, np.int64))
    g.tensors["y"] = Tensor("y", np.float32, (3,))
    g.nodes += [Node("max3", "Max", ["a", "b", "c"], ["m"], {}),
                Node("row", "Gather", ["m", "i"], ["y"], {"axis": 0})]
    g.inputs, g.outputs = ["a", "b", "c"], ["y"]
    from edgeq_coreml.target import build_artifact

    art = build_artifact(QModel(g, g), tmp_path / "ane", BuildOptions(precision="fp32", extra={"weights": "fp32"}))
    ops = _ops(art)
    assert ops.count("maximum") == 2 and "gather" not in ops and "slice_by_index" in ops
    rng = np.random.default_rng(0)
    feed = {n: rng.normal(size=(2, 3)).astype(np.float32) for n in "abc"}
    prog = load_program(art.path / "model.mlpackage")
    np.testing.assert_array_equal(run_program(prog, feed)[prog.outputs[0]], run_graph(g, feed)["y"])


def test_weight_only_embedding_table_is_int8(tmp_path):
    """ane-w8: a large float table read by Gather is stored int8 per row."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(512, 256)).astype(np.float32)
    g = Graph("emb")
    g.tensors["ids"] = Tensor("ids", np.int64, (1, 4))
    g.tensors["table"] = Tensor("table", np.float32, table.shape, table)
    g.tensors["y"] = Tensor("y", np.float32, (1, 4, 256))
    g.nodes.append(Node("embed", "Gather", ["table", "ids"], ["y"], {"axis": 0}))
    g.inputs, g.outputs = ["ids"], ["y"]
    from edgeq_coreml.target import build_artifact

    art = build_artifact(QModel(g, g), tmp_path / "ane", BuildOptions(precision="fp16", extra={"weights": "int8"}))
    assert "constexpr_affine_dequantize" in _ops(art)
    assert art.manifest["inputs"][0]["dtype"] == "int32"
    weights = art.path / "model.mlpackage" / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    assert weights.stat().st_size < table.size * 1.1  # one byte per value (+ row scales)
    prog = load_program(art.path / "model.mlpackage")
    ids = np.array([[0, 5, 511, 7]])
    got = run_program(prog, {prog.inputs[0]: ids})[prog.outputs[0]]
    # per-row int8: within half a step (max|row|/254) plus fp16 storage
    step = np.abs(table).max(axis=1) / 127
    assert np.all(np.abs(got - table[ids[0]][None]) <= (0.51 * step[ids[0]])[None, :, None] + 4e-3)


def test_missing_coremltools_names_the_package(cnn, tmp_path, monkeypatch):
    """Without coremltools a build says which package to install, and leaves nothing."""
    import sys

    from edgeq.sdk import TargetUnavailableError

    for mod in [m for m in sys.modules if m == "coremltools" or m.startswith("coremltools.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "coremltools", None)  # import raises ImportError
    with pytest.raises(TargetUnavailableError, match="pip install coremltools"):
        build(cnn, tmp_path)
    assert not (tmp_path / "ane").exists()
