"""Property: ``edgeq.load`` (the ONNX importer and canonicalisation) on a mutated model
either loads it or raises an ``EdgeqError`` naming the file, within a time bound.

Two families of inputs, each from two small real models (a CNN and a graph of
attribute-heavy shape ops):

* byte-level: the serialized model with bits flipped, runs overwritten with extreme
  integers, bytes inserted or deleted, or the file truncated;
* structural, at the proto level (what a faulty exporter writes): wrong or huge declared
  dims, bad element/data types, dangling inputs, dropped initializers, initializer data
  of the wrong size, attributes of the wrong type, unknown or control-flow op types,
  custom domains, opset and IR version extremes, duplicate outputs, cycles, external
  data pointing outside the model's folder, NaN weights.
"""

from __future__ import annotations

import numpy as np
import onnx
from hypothesis import given
from hypothesis import strategies as st
from onnx import numpy_helper

import edgeq
import pytest

from _fuzz_helpers import (FIND_ONE_FAILURE, cnn_model, fuzz_settings, mutated_bytes, outcome_of,
                           shapes_model, tally_untouched, workdir)

MODELS = {"cnn": cnn_model(), "shapes": shapes_model()}
SERIALIZED = {k: m.SerializeToString() for k, m in MODELS.items()}

EXTREME_DIMS = [-1, 0, 1, 3, 7, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 62]
DATA_TYPES = list(range(-1, 26)) + [99, 2 ** 20]


def _load(data: bytes) -> None:
    path = workdir() / "fuzzed.onnx"
    path.write_bytes(data)

    def load():
        model = edgeq.load(path)
        model.summary()

    outcome_of("importer", load, [path.name])


@given(st.sampled_from(sorted(SERIALIZED)).flatmap(lambda k: mutated_bytes(SERIALIZED[k])))
@fuzz_settings(max_examples=300)
def test_importer_on_mutated_bytes(data):
    _load(data)


# -- structural mutations ------------------------------------------------------------------
def _dims_of(proto: onnx.ModelProto):
    """Every TensorShapeProto.Dimension of the graph's inputs, outputs and value_info."""
    g = proto.graph
    return [d for vi in list(g.input) + list(g.output) + list(g.value_info)
            for d in vi.type.tensor_type.shape.dim]


def _mutate(draw, proto: onnx.ModelProto) -> str:
    g = proto.graph
    kind = draw(st.sampled_from([
        "value_dim", "drop_dim", "init_dims", "init_data_type", "elem_type", "dangling_input",
        "drop_initializer", "truncate_raw", "attr_type", "attr_value", "op_type", "domain", "opset",
        "ir_version", "duplicate_output", "cycle", "external_data", "nan_weight", "drop_output",
        "extra_output", "empty_input", "swap_inputs"]))
    node = g.node[draw(st.integers(0, len(g.node) - 1))]
    init = g.initializer[draw(st.integers(0, len(g.initializer) - 1))] if len(g.initializer) else None
    if kind == "value_dim":
        dims = _dims_of(proto)
        d = dims[draw(st.integers(0, len(dims) - 1))]
        if draw(st.booleans()):
            d.dim_value = draw(st.sampled_from(EXTREME_DIMS))
        else:
            d.dim_param = draw(st.sampled_from(["N", "", "?", "batch size"]))
    elif kind == "drop_dim":
        vi = draw(st.sampled_from(list(g.input) + list(g.output)))
        dims = vi.type.tensor_type.shape.dim
        if len(dims):
            del dims[draw(st.integers(0, len(dims) - 1))]
    elif kind == "init_dims" and init is not None:
        dims = list(init.dims) or [1]
        dims[draw(st.integers(0, len(dims) - 1))] = draw(st.sampled_from(EXTREME_DIMS))
        del init.dims[:]
        init.dims.extend(dims)
    elif kind == "init_data_type" and init is not None:
        init.data_type = draw(st.sampled_from(DATA_TYPES))
    elif kind == "elem_type":
        vi = draw(st.sampled_from(list(g.input) + list(g.output)))
        vi.type.tensor_type.elem_type = draw(st.sampled_from(DATA_TYPES))
    elif kind == "dangling_input" and len(node.input):
        node.input[draw(st.integers(0, len(node.input) - 1))] = "no_such_tensor"
    elif kind == "drop_initializer" and init is not None:
        g.initializer.remove(init)
    elif kind == "truncate_raw" and init is not None and init.raw_data:
        init.raw_data = init.raw_data[:draw(st.integers(0, len(init.raw_data) - 1))]
    elif kind == "attr_type" and len(node.attribute):
        attr = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
        attr.type = draw(st.sampled_from(sorted(onnx.AttributeProto.AttributeType.values())))
    elif kind == "attr_value" and len(node.attribute):
        attr = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
        new = draw(st.sampled_from(["float", "string", "ints", "huge_int", "empty_ints", "tensor"]))
        name = attr.name
        attr.Clear()
        attr.name = name
        if new == "float":
            attr.type, attr.f = onnx.AttributeProto.FLOAT, draw(st.sampled_from([0.5, float("nan"), 1e30]))
        elif new == "string":
            attr.type, attr.s = onnx.AttributeProto.STRING, b"\xff\xfe"
        elif new == "ints":
            attr.type = onnx.AttributeProto.INTS
            attr.ints.extend(draw(st.lists(st.sampled_from(EXTREME_DIMS), max_size=6)))
        elif new == "huge_int":
            attr.type, attr.i = onnx.AttributeProto.INT, draw(st.sampled_from(EXTREME_DIMS))
        elif new == "empty_ints":
            attr.type = onnx.AttributeProto.INTS
        else:
            attr.type = onnx.AttributeProto.TENSOR
            attr.t.CopyFrom(numpy_helper.from_array(np.zeros(3, np.float32)))
    elif kind == "op_type":
        node.op_type = draw(st.sampled_from(["NotAnOp", "Loop", "If", "Scan", "Conv", "Reshape",
                                             "Softmax", "Gemm", "Identity", "", "Relu"]))
    elif kind == "domain":
        node.domain = draw(st.sampled_from(["com.example", "ai.onnx.ml", "ai.onnx", "com.microsoft"]))
    elif kind == "opset":
        proto.opset_import[0].version = draw(st.sampled_from([-1, 0, 1, 7, 10, 22, 1000, 2 ** 40]))
    elif kind == "ir_version":
        proto.ir_version = draw(st.sampled_from([-1, 0, 1, 3, 99, 2 ** 40]))
    elif kind == "duplicate_output":
        other = g.node[draw(st.integers(0, len(g.node) - 1))]
        if other is not node and len(other.output):
            node.output[0] = other.output[0]
    elif kind == "cycle" and len(node.input) and len(node.output):
        node.input[0] = node.output[0]
    elif kind == "external_data" and init is not None:
        init.ClearField("raw_data")
        init.data_location = onnx.TensorProto.EXTERNAL
        del init.external_data[:]
        entry = init.external_data.add()
        entry.key, entry.value = "location", draw(st.sampled_from(
            ["../outside.bin", "/etc/hostname", "missing.bin", "", "weights/../../x.bin"]))
        if draw(st.booleans()):
            length = init.external_data.add()
            length.key, length.value = "length", draw(st.sampled_from(["-5", "abc", str(2 ** 40)]))
    elif kind == "nan_weight" and init is not None and init.data_type == onnx.TensorProto.FLOAT \
            and init.data_location == onnx.TensorProto.DEFAULT and init.raw_data:
        try:
            arr = numpy_helper.to_array(init).copy()
        except ValueError:  # an earlier mutation broke its size
            arr = np.zeros(0, np.float32)
        if arr.size:
            arr.reshape(-1)[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
            init.CopyFrom(numpy_helper.from_array(arr, init.name))
    elif kind == "drop_output" and len(g.output):
        del g.output[draw(st.integers(0, len(g.output) - 1))]
    elif kind == "extra_output":
        vi = g.output.add()
        vi.CopyFrom(g.output[0])
        vi.name = draw(st.sampled_from(["produced_by_nobody", g.input[0].name, g.output[0].name]))
    elif kind == "empty_input" and len(node.input):
        node.input[0] = ""
    elif kind == "swap_inputs" and len(node.input) > 1:
        a, b = node.input[0], node.input[1]
        node.input[0], node.input[1] = b, a
    return kind


@st.composite
def mutated_models(draw) -> tuple[list[str], bytes]:
    proto = onnx.ModelProto()
    proto.CopyFrom(MODELS[draw(st.sampled_from(sorted(MODELS)))])
    kinds = [_mutate(draw, proto) for _ in range(draw(st.integers(1, 3)))]
    return kinds, proto.SerializeToString()


@given(mutated_models())
@fuzz_settings(max_examples=300)
def test_importer_on_structural_mutations(case):
    kinds, data = case
    _load(data)


def test_the_property_fails_for_an_unguarded_importer(monkeypatch):
    """The property can fail: with the importer's checker step as it was before the
    fuzzing (onnx's checker quoting a name that is not UTF-8 raises UnicodeDecodeError,
    which nothing converted), the byte-level property reports the escape."""
    import edgeq.ir.onnx_import as onnx_import
    from edgeq.errors import ModelLoadError

    def check_without_utf8_guard(proto, source):
        onnx_import._toposort_proto(proto.graph)
        try:
            onnx.checker.check_model(proto, full_check=False)
        except onnx.checker.ValidationError as exc:
            raise ModelLoadError(f"{source}: invalid ONNX model: {exc}") from None

    monkeypatch.setattr(onnx_import, "_check", check_without_utf8_guard)

    @given(st.sampled_from(sorted(SERIALIZED)).flatmap(lambda k: mutated_bytes(SERIALIZED[k])))
    @fuzz_settings(120, **FIND_ONE_FAILURE)
    def unguarded(data):
        _load(data)

    with tally_untouched(), pytest.raises(AssertionError, match="UnicodeDecodeError escaped"):
        unguarded()


def test_a_hang_fails_the_example():
    """The time bound holds: an input that makes the code under test loop past the
    bound fails the example as a hang instead of stalling the suite."""
    import time

    def loops():
        while True:
            time.sleep(0.01)

    started = time.monotonic()
    with tally_untouched(), pytest.raises(AssertionError, match="hung"):
        outcome_of("importer", loops, ["x"], limit_s=0.2)
    assert time.monotonic() - started < 5
