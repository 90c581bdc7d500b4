"""The target through the plugin door: registration, check(), emit() into an artifact,
all-or-nothing builds, unsupported ops and float fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.sdk import BuildError, UnsupportedOpError
from edgeq.sdk import Artifact, BuildOptions
from edgeq.sdk import QDType

from edgeq_tflite.target import MODEL_FILE, TFLiteTarget, build_artifact
from edgeq.testing.conformance import CaseModel as QModel
from edgeq.testing.qgraph import QGraph, qp


def test_registered_through_entry_point():
    from edgeq.plugins import call_each, get_plugin_manager

    get_plugin_manager(refresh=True)
    targets = [t for _, ts in call_each("register_targets") for t in ts]
    assert any(isinstance(t, TFLiteTarget) for t in targets)
    runners = [r for _, rs in call_each("register_runners") for r in rs]
    assert {"host"} <= {r.name for r in runners if "tflite" in r.targets}


def test_spec_honours_tflite_constraints():
    spec = TFLiteTarget().spec
    assert QDType.INT16 in spec.activation_dtypes
    assert {"Conv", "FullyConnected"} <= spec.per_channel_ops
    assert spec.fixed_output["Softmax"][QDType.INT8] == (1 / 256, -128)
    assert "AveragePool" in spec.same_scale_ops  # AVERAGE_POOL_2D does not rescale
    assert {"Div", "Cast", "Conv"} <= spec.float_fallback_ops  # float kernels exist for them
    assert "Erf" not in spec.float_fallback_ops  # TFLite has no ERF builtin
    assert not TFLiteTarget().spec_for({"float_fallback": False}).float_fallback_ops
    assert TFLiteTarget().spec_for({"float_fallback": True}) == spec


def test_emit_writes_artifact_and_manifest(cnn, tmp_path):
    art = build_artifact(QModel(cnn.graph), tmp_path / "tflite", BuildOptions(
        extra={"preprocessing": {"scale": 0.0078125}}))
    assert (art.path / MODEL_FILE).is_file()
    loaded = Artifact.load(art.path)
    loaded.verify()
    m = loaded.manifest
    assert m["target"] == "tflite" and MODEL_FILE in m["files"]
    assert m["calibration_fingerprint"] == "calib-test"
    assert m["inputs"][0]["layout"] == "NHWC" and m["inputs"][0]["source_shape"] == [1, 3, 32, 32]
    assert m["outputs"][0]["dtype"] == "float32"
    assert m["tool_versions"]["ai-edge-litert"]
    assert m["tflite"]["transposes"] == 0 and m["tflite"]["min_runtime_version"] == "1.14.0"
    assert not list(tmp_path.glob(".*"))  # no temporary directory left


def test_int8_io_manifest_has_quant(cnn, tmp_path):
    art = build_artifact(QModel(cnn.graph), tmp_path / "o", BuildOptions(io_dtype="int8"))
    spec = art.manifest["inputs"][0]
    assert spec["dtype"] == "int8" and spec["quant"]["scale"] and spec["quant"]["zero_point"]


def test_fp32_precision_uses_float_graph(cnn, tmp_path):
    art = build_artifact(QModel(cnn.graph, cnn.float_graph), tmp_path / "f",
                         BuildOptions(precision="fp32"))
    assert art.manifest["options"]["precision"] == "fp32"
    assert "QUANTIZE" not in art.manifest["tflite"]["ops"]


def test_unwritable_output_leaves_nothing(cnn, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    with pytest.raises(BuildError, match="not_a_dir"):
        build_artifact(QModel(cnn.graph), blocker / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_dir"]


def _with_unsupported():
    b = QGraph("bad")
    x = b.input((1, 8), qp(0.05, 0))
    e = b.op("Erf", [x], (1, 8), qp(0.01, 0))
    d = b.op("Div", [e, x], (1, 8), qp(0.05, 0))
    b.output(d)
    return b.build()


def _name(g, op_type):
    return next(n.name for n in g.nodes if n.op_type == op_type)


def test_unsupported_ops_listed_and_nothing_written(cnn, tmp_path):
    out = tmp_path / "tflite"
    build_artifact(QModel(cnn.graph), out)  # an earlier, good build
    before = (out / MODEL_FILE).read_bytes()
    bad = _with_unsupported()
    erf, div = _name(bad, "Erf"), _name(bad, "Div")
    with pytest.raises(UnsupportedOpError) as err:
        build_artifact(QModel(bad), out)
    assert set(err.value.nodes) == {erf, div}
    assert erf in str(err.value) and div in str(err.value) and "DIV" in str(err.value)
    assert (out / MODEL_FILE).read_bytes() == before  # the previous artifact is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tflite"]


def test_check_reports_placements(cnn):
    places = TFLiteTarget().check(cnn.graph)
    assert all(p.where == "integer" for p in places if p.op_type != "Dequantize")
    g = _with_unsupported()
    bad = {p.node: p for p in TFLiteTarget().check(g)}
    assert bad[_name(g, "Erf")].where == "unsupported" and "Erf" in bad[_name(g, "Erf")].reason
    assert bad[_name(g, "Div")].where == "unsupported"


def _float_island():
    b = QGraph("island")
    x = b.input((1, 8), qp(0.05, 0))
    f = b.float_tensor((1, 8))
    b.node("Dequantize", [x], [f])
    d = b.op("Div", [f, b.const(np.full((1, 8), 4.0, np.float32))], (1, 8), None)
    q = b.op("Quantize", [d], (1, 8), qp(0.02, 0))
    b.output(q)
    return b.build(), b.feed(3.0)


def test_float_fallback_only_when_allowed(tmp_path):
    g, feed = _float_island()
    with pytest.raises(UnsupportedOpError, match="float fallback") as err:
        build_artifact(QModel(g), tmp_path / "a")
    div = _name(g, "Div")
    assert err.value.nodes == [div]
    art = build_artifact(QModel(g), tmp_path / "b", BuildOptions(extra={"float_fallback": True}))
    assert art.manifest["tflite"]["float_nodes"] == [div]
    assert {p.node: p.where for p in TFLiteTarget().check(g)}[div] == "float"
    from edgeq_tflite.runners.host import HostRunner

    got = HostRunner(delegate="reference").run(art, feed)["y"]
    x = qp(0.05, 0).dequantize(qp(0.05, 0).quantize(feed["x"]))  # int8 in, float Div, int8 out
    want = qp(0.02, 0).dequantize(qp(0.02, 0).quantize(x / 4.0))
    np.testing.assert_allclose(got, want, atol=1e-6)
    json.dumps(art.manifest)
