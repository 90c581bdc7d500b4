"""The QNN target end to end on a small CNN quantized by edgeq with the QNN spec: the spec
is honoured (per-channel Conv and FullyConnected weights), the artifact holds the QDQ model,
encodings, an EPContext model + context binary per HTP generation, and the host runner
on the HTP emulator agrees with edgeq's simulator."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from edgeq.sdk import Artifact, BuildOptions, ConfigError


def small_cnn(path) -> str:
    """conv 3x3 s2 + ReLU6 -> global average pool -> flatten -> Gemm, as an ONNX file."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w1"),
             numpy_helper.from_array(np.full(8, 0.1, np.float32), "b1"),
             numpy_helper.from_array(np.float32(0.0), "lo"), numpy_helper.from_array(np.float32(6.0), "hi"),
             numpy_helper.from_array(rng.normal(0, 0.5, (10, 8)).astype(np.float32), "wf"),
             numpy_helper.from_array(np.zeros(10, np.float32), "bf")]
    nodes = [helper.make_node("Conv", ["image", "w1", "b1"], ["c0"], name="conv1", kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c0", "lo", "hi"], ["c1"], name="relu6"),
             helper.make_node("GlobalAveragePool", ["c1"], ["gap"], name="gap"),
             helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
             helper.make_node("Gemm", ["flat", "wf", "bf"], ["logits"], name="fc", transB=1)]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, str(path))
    return str(path)


class QModel:
    def __init__(self, graph, fingerprint="calib-test"):
        self.graph = graph
        self.calibration_fingerprint = fingerprint


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    import edgeq

    from edgeq_qnn.spec import QNN_HTP

    rng = np.random.default_rng(1)
    calib = [{"image": rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32)} for _ in range(8)]
    model = edgeq.load(small_cnn(tmp_path_factory.mktemp("cnn") / "cnn.onnx"))
    return model, edgeq.quantize(model, calib, spec=QNN_HTP), calib


def test_spec_gives_per_channel_conv_and_fully_connected(quantized):
    import edgeq

    from edgeq_qnn.spec import QNN_HTP_FC_PER_TENSOR

    model, qm, calib = quantized
    weights = {n.op_type: qm.graph.tensors[n.inputs[1]] for n in qm.graph.nodes
               if n.op_type in ("Conv", "FullyConnected")}
    assert weights["Conv"].quant.axis == 0 and weights["Conv"].quant.scale.size == 8
    # FullyConnected per output row (emitted as a 1x1 Conv)
    assert weights["FullyConnected"].quant.axis == 0 and weights["FullyConnected"].quant.scale.size == 10
    qm_pt = edgeq.quantize(model, calib, spec=QNN_HTP_FC_PER_TENSOR)
    fc = next(qm_pt.graph.tensors[n.inputs[1]] for n in qm_pt.graph.nodes if n.op_type == "FullyConnected")
    assert fc.quant.axis is None and fc.quant.scale.size == 1


@pytest.mark.parametrize("arch", [73, 75, 79])
def test_emit_writes_context_binary_for_each_htp_arch(quantized, tmp_path, arch):
    from edgeq_qnn.runners.host import HostRunner
    from edgeq_qnn.target import QnnTarget

    model, qm, calib = quantized
    a = QnnTarget().emit(qm, tmp_path, BuildOptions(extra={"htp_arch": arch, "soc_model": 57}))
    m = a.manifest
    ctx = m["qnn"]["context"]
    assert m["qnn"]["htp_arch"] == arch and m["options"]["htp_arch"] == arch
    assert set(m["files"]) >= {"model.qdq.onnx", "encodings.json", ctx["model_file"], ctx["binary_file"]}
    assert ctx["binary_bytes"] > 1000
    ctx_model = onnx.load(str(tmp_path / ctx["model_file"]), load_external_data=False)
    assert [n.op_type for n in ctx_model.graph.node] == ["EPContext"]
    Artifact.load(tmp_path).verify()
    # the context binary on the emulator equals the QDQ model compiled on the fly, and
    # both are within 1 LSB per layer of the simulator (a few LSB after 3 layers)
    feed = calib[0]
    got = HostRunner(model="context").run(a, feed)["logits"]
    again = HostRunner(model="qdq").run(a, feed)["logits"]
    np.testing.assert_array_equal(got, again)
    sim = qm.run(feed)["logits"]
    s_out = m["qnn"]["output_encodings"]["logits"]["scale"][0]
    assert np.abs(got - sim).max() <= 3 * s_out + 1e-6


def test_encodings_are_edgeqs_in_qnn_terms(quantized, tmp_path):
    from edgeq_qnn.target import QnnTarget

    _, qm, _ = quantized
    QnnTarget().emit(qm, tmp_path, BuildOptions(extra={"context_binary": False}))
    enc = json.loads((tmp_path / "encodings.json").read_text())
    acts, params = enc["activation_encodings"], enc["param_encodings"]
    c1 = qm.graph.tensors["c1"].quant
    (e,) = acts["c1"]
    assert e["bitwidth"] == 8 and e["offset"] == -(int(c1.zero_point[0]) + 128)
    assert e["scale"] == pytest.approx(float(c1.scale[0]), rel=1e-7)
    assert e["min"] == pytest.approx(e["scale"] * e["offset"], rel=1e-6)
    w1 = [n for n in qm.graph.nodes if n.op_type == "Conv"][0].inputs[1]
    assert len(params[w1]) == 8 and all(p["offset"] == 0 for p in params[w1])
    # the FullyConnected (a 1x1 Conv in the QDQ model): one encoding per output row
    fc = next(n for n in qm.graph.nodes if n.op_type == "FullyConnected")
    wq = qm.graph.tensors[fc.inputs[1]].quant
    assert [p["scale"] for p in params[fc.inputs[1]]] == pytest.approx(wq.scale.tolist(), rel=1e-7)
    assert len(params[fc.inputs[2]]) == 10 and fc.inputs[0] not in params
    qdq = onnx.load(str(tmp_path / "model.qdq.onnx"))
    assert "Gemm" not in {n.op_type for n in qdq.graph.node}


def test_profile_options_are_checked():
    from edgeq_qnn.target import htp_options

    assert htp_options({"htp_arch": 79, "soc_model": 69})["htp_arch"] == 79
    with pytest.raises(ConfigError, match="htp_arch 42"):
        htp_options({"htp_arch": 42})
    with pytest.raises(ConfigError, match="precisions.conv_weights"):
        htp_options({"precisions": {"conv_weights": "int4"}})
    # FullyConnected weights are per channel now; a profile promising per-tensor is refused
    with pytest.raises(ConfigError, match="precisions.matmul_weights"):
        htp_options({"precisions": {"matmul_weights": "int8-symmetric-per-tensor"}})


def test_builtin_profiles_resolve():
    from edgeq.targets import get_target

    for arch, soc in ((73, 43), (75, 57), (79, 69)):
        rt = get_target(f"qnn-htp-v{arch}")
        assert rt.target.name == "qnn"
        assert rt.build_options().extra["htp_arch"] == arch and rt.build_options().extra["soc_model"] == soc


def test_host_profile_reports_placement_and_accuracy(quantized, tmp_path):
    from edgeq_qnn.runners.host import HostRunner
    from edgeq_qnn.target import QnnTarget

    model, qm, calib = quantized
    a = QnnTarget().emit(qm, tmp_path, BuildOptions())
    refs = [model.run(f) for f in calib[:3]]
    rep = HostRunner().profile(a, calib[:3], runs=2, warmup=0, references=refs)
    assert rep.extra["placement"]["unsupported"] == []
    assert rep.extra["placement"]["qnn_ops"] >= 4
    assert rep.latency.p50_ms > 0 and len(rep.outputs) == 3
    assert rep.accuracy  # attach_accuracy filled it


def test_op_trace_names_nodes_qnn_cannot_take(tmp_path):
    from onnx import TensorProto, helper

    from edgeq_qnn.runners.session import op_trace

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Mod", ["x", "x"], ["z"], name="bad_mod", fmod=1),
                           helper.make_node("Relu", ["z"], ["y"])], "g", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.save(m, str(tmp_path / "m.onnx"))
    trace = op_trace(tmp_path / "m.onnx")
    assert [u["op_type"] for u in trace["unsupported"]] == ["Mod"]
    assert "fmod" in trace["unsupported"][0]["reason"]


def test_host_runner_sizes_what_it_loads(quantized, tmp_path):
    """size_mb of a report is the EPContext model plus its context binary (or the QDQ
    model), not the directory, which also holds the converter's inputs and the reports."""
    from edgeq_qnn.runners.host import HostRunner
    from edgeq_qnn.target import QnnTarget

    model, qm, calib = quantized
    a = QnnTarget().emit(qm, tmp_path, BuildOptions(extra={"htp_arch": 75, "soc_model": 57}))
    ctx = a.manifest["qnn"]["context"]
    (tmp_path / "report.html").write_bytes(b"x" * 100_000)  # a report of an earlier run
    context = HostRunner(model="context").profile(a, [calib[0]], runs=1, warmup=0)
    assert context.artifact["bytes"] == ((tmp_path / ctx["model_file"]).stat().st_size
                                         + (tmp_path / ctx["binary_file"]).stat().st_size)
    qdq = HostRunner(model="qdq").profile(a, [calib[0]], runs=1, warmup=0)
    assert qdq.artifact["bytes"] == (tmp_path / "model.qdq.onnx").stat().st_size


def test_integer_inputs_are_read_back_as_declared(tmp_path):
    """Token ids (int64) stay integer inputs of the QDQ model; the reader takes the dtype
    the QDQ model declares, and still refuses a manifest that says otherwise."""
    import edgeq
    from onnx import TensorProto, helper, numpy_helper

    from edgeq.sdk import ArtifactError
    from edgeq_qnn.target import QnnTarget

    rng = np.random.default_rng(0)
    emb = numpy_helper.from_array(rng.normal(0, 1, (20, 8)).astype(np.float32), "emb")
    nodes = [helper.make_node("Gather", ["emb", "ids"], ["e"], name="embed"),
             helper.make_node("Relu", ["e"], ["y"], name="relu")]
    g = helper.make_graph(nodes, "ids", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])], [emb])
    path = tmp_path / "ids.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    calib = [{"ids": rng.integers(0, 20, (1, 4)).astype(np.int64)} for _ in range(4)]
    art = edgeq.build(str(path), targets=["qnn-htp-v75"], calibration=calib, output_dir=tmp_path / "out",
                      progress=False)["qnn-htp-v75"]
    summary = QnnTarget().read_artifact(art)
    assert {s["name"]: s["dtype"] for s in summary["inputs"]} == {"ids": "int64"}
    manifest = json.loads((art.path / "manifest.json").read_text())
    manifest["inputs"][0]["dtype"] = "float32"
    with pytest.raises(ArtifactError, match="'ids' has dtype 'float32'.*declares 'int64'"):
        QnnTarget().read_artifact(Artifact(art.path, manifest))
