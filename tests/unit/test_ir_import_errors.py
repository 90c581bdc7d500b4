"""ONNX import errors: bad files, bad shapes, unsupported control flow, opsets."""

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import make_model, save  # noqa: E402

from edgeq.errors import EdgeqError, ModelLoadError, ShapeError, UnsupportedOpError, UsageError  # noqa: E402
from edgeq.ir.onnx_import import import_onnx  # noqa: E402


def conv_model(batch="N"):
    w = np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    return make_model([node], inputs={"x": (batch, 3, "H", "W")}, outputs={"y": (batch, 8, "H", "W")},
                      initializers={"w": w})


def test_nonexistent_path(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(ModelLoadError, match="nope.onnx: no such file"):
        import_onnx(missing)


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelLoadError, match="not a file"):
        import_onnx(tmp_path)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.02])
def test_truncated_file(tmp_path, fraction):
    path = save(conv_model(), tmp_path / "model.onnx")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelLoadError) as err:
        import_onnx(path, {"x": (1, 3, 8, 8)})
    assert str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"hello, this is not a model\n",
                                     np.random.default_rng(1).bytes(4096), b"\x08\x07" * 100])
def test_garbage_file(tmp_path, content):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError) as err:
        import_onnx(path)
    assert "garbage.onnx" in str(err.value)


def test_dynamic_dims_without_shapes_suggest_input_flag(tmp_path):
    path = save(conv_model(), tmp_path / "m.onnx")
    with pytest.raises(ShapeError) as err:
        import_onnx(path)
    msg = str(err.value)
    assert "m.onnx" in msg and "'x'" in msg and "0 ('N')" in msg and "3 ('W')" in msg
    assert "--input x:1x3x224x224" in msg and "input_shapes=" in msg


def test_user_shape_specialises_every_tensor(tmp_path):
    g = import_onnx(save(conv_model(), tmp_path / "m.onnx"), {"x": (2, 3, 5, 7)})
    assert g.tensors["x"].shape == (2, 3, 5, 7) and g.tensors["y"].shape == (2, 8, 5, 7)
    assert g.metadata["input_shapes"] == "x:2x3x5x7"
    assert all(all(d >= 0 for d in t.shape) for t in g.tensors.values())


def test_unknown_input_name_and_malformed_shapes():
    with pytest.raises(UsageError, match="no model input named 'image'.*'x'"):
        import_onnx(conv_model(), {"image": (1, 3, 8, 8)})
    with pytest.raises(UsageError):
        import_onnx(conv_model(), {"x": "1x3xHx8"})
    with pytest.raises(ShapeError, match="fixed to 3"):
        import_onnx(conv_model(), {"x": (1, 4, 8, 8)})


def test_shapes_the_model_cannot_take():
    node = helper.make_node("Reshape", ["x", "s"], ["y"])
    model = make_model([node], inputs={"x": ("N", 6)}, outputs={"y": None},
                       initializers={"s": np.array([4, 3], np.int64)})
    with pytest.raises(ShapeError, match="input shapes"):
        import_onnx(model, {"x": (1, 6)})


def test_opset_out_of_range(tmp_path):
    newer = make_model([helper.make_node("Relu", ["x"], ["y"])], inputs={"x": (1, 2)}, outputs={"y": (1, 2)},
                       opset=22, ir_version=10)
    with pytest.raises(ModelLoadError, match="opset 22 is newer"):
        import_onnx(newer)
    older = make_model([helper.make_node("Squeeze", ["x"], ["y"], axes=[0])], inputs={"x": (1, 2)},
                       outputs={"y": (2,)}, opset=9, ir_version=4)
    g = import_onnx(older)  # upgraded by onnx's version converter
    assert g.metadata["source_opset"] == "11" and g.const(g.nodes[0].inputs[1]).tolist() == [0]


def test_loop_is_unsupported():
    body = helper.make_graph(
        [helper.make_node("Add", ["v", "one"], ["v2"]), helper.make_node("Identity", ["c"], ["c2"])], "body",
        [helper.make_tensor_value_info("i", onnx.TensorProto.INT64, []),
         helper.make_tensor_value_info("c", onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info("v", onnx.TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("c2", onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info("v2", onnx.TensorProto.FLOAT, [2])])
    loop = helper.make_node("Loop", ["n", "", "x"], ["y"], name="the_loop", body=body)
    model = make_model([loop], inputs={"x": (2,), "n": ()}, outputs={"y": (2,)},
                       initializers={"one": np.ones(2, np.float32)}, dtypes={"n": np.int64})
    with pytest.raises(UnsupportedOpError, match="'the_loop' \\(Loop\\)") as err:
        import_onnx(model)
    assert err.value.nodes == ["the_loop"]


def test_data_dependent_shape_is_a_shape_error():
    nodes = [helper.make_node("NonZero", ["x"], ["nz"], name="nz"),
             helper.make_node("Transpose", ["nz"], ["y"])]
    model = make_model(nodes, inputs={"x": (3, 4)}, outputs={"y": None}, dtypes={"y": np.int64})
    with pytest.raises(ShapeError, match="'nz' \\(NonZero\\).*depends on the input data"):
        import_onnx(model)


def test_external_data_missing_and_modelproto_with_external_refs(tmp_path):
    model = conv_model(batch=1)
    path = tmp_path / "ext.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.data", size_threshold=0)
    proto = onnx.load(str(path), load_external_data=False)
    with pytest.raises(ModelLoadError, match="external file.*file path"):
        import_onnx(proto, {"x": (1, 3, 4, 4)})
    (tmp_path / "ext.data").unlink()
    with pytest.raises(ModelLoadError, match="ext.onnx: initializer .* external file 'ext.data', which does not exist"):
        import_onnx(path, {"x": (1, 3, 4, 4)})


def test_every_error_is_an_edgeq_error():
    for cls in (ModelLoadError, ShapeError, UnsupportedOpError, UsageError):
        assert issubclass(cls, EdgeqError)


def test_if_on_an_input_value_names_that_input():
    branch = [helper.make_graph([helper.make_node(op, ["x"], [f"{op}_out"])], op, [],
                                [helper.make_tensor_value_info(f"{op}_out", onnx.TensorProto.FLOAT, None)])
              for op in ("Relu", "Neg")]
    nodes = [helper.make_node("Equal", ["sr", "k"], ["cond"]),
             helper.make_node("If", ["cond"], ["y"], name="pick", then_branch=branch[0], else_branch=branch[1])]
    model = make_model(nodes, inputs={"x": (3,), "sr": ()}, outputs={"y": (3,)},
                       initializers={"k": np.array(16000, np.int64)}, dtypes={"sr": np.int64})
    with pytest.raises(UnsupportedOpError, match="'pick' \\(If\\).*input\\(s\\) 'sr'"):
        import_onnx(model)
