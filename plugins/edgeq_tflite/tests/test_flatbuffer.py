"""The flatbuffer itself: identifier, schema version, buffer 0, 16-byte aligned constant
buffers, metadata, signature; it loads in LiteRT (tflite-runtime: test_tflite_runtime.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq_tflite.emit.export import export_quantized
from edgeq_tflite.emit.metadata import read_edgeq_metadata, read_metadata
from edgeq_tflite.emit.schema import schema
from edgeq_tflite.emit.writer import BUFFER_ALIGNMENT, ModelWriter


@pytest.fixture(scope="module")
def exported(cnn):
    return export_quantized(cnn.graph, metadata={"calibration_fingerprint": "abc123",
                                                 "preprocessing": {"mean": [0.5], "std": [0.25]}})


def _data_offsets(model: bytes) -> list[tuple[int, int]]:
    m = schema.Model.GetRootAs(model, 0)
    out = []
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        if not b.DataIsNone():
            out.append((b._tab.Vector(b._tab.Offset(4)), b.DataLength()))
    return out


def test_header_version_and_empty_buffer0(exported):
    model = exported.model
    assert model[4:8] == b"TFL3"
    m = schema.Model.GetRootAs(model, 0)
    assert m.Version() == 3
    assert m.Buffers(0).DataLength() == 0
    sub = m.Subgraphs(0)
    # every non-constant tensor points at buffer 0
    consts = {sub.Tensors(i).Buffer() for i in range(sub.TensorsLength())} - {0}
    assert consts and all(m.Buffers(b).DataLength() > 0 for b in consts)


def test_constant_buffers_are_16_byte_aligned(exported):
    offsets = _data_offsets(exported.model)
    assert len(offsets) > 10
    assert all(off % BUFFER_ALIGNMENT == 0 for off, _ in offsets), offsets


def test_alignment_holds_for_odd_sizes():
    w = ModelWriter()
    x = w.add_tensor("x", np.float32, (1, 3))
    prev = x
    for k, n in enumerate((1, 3, 5, 7, 13)):  # odd byte counts would misalign naive packing
        c = w.add_constant(f"c{k}", np.arange(n, dtype=np.int8).reshape(1, n)[:, :1].repeat(3, 1))
        y = w.add_tensor(f"y{k}", np.int8, (1, 3))
        w.add_operator(schema.BuiltinOperator.ADD, [prev.index, c.index], [y.index])
        prev = y
        w.add_constant(f"pad{k}", np.ones(n, np.int8))
    model = w.finish()
    assert all(off % BUFFER_ALIGNMENT == 0 for off, _ in _data_offsets(model))


def test_identical_constants_share_one_buffer():
    w = ModelWriter()
    a = w.add_constant("a", np.arange(8, dtype=np.int32))
    b = w.add_constant("b", np.arange(8, dtype=np.int32))
    c = w.add_constant("c", np.arange(8, dtype=np.int64))
    t = w._tensor_t
    assert t[a.index].buffer == t[b.index].buffer != t[c.index].buffer


def test_metadata_and_signature(exported):
    md = read_metadata(exported.model)
    assert md["min_runtime_version"].rstrip(b"\0").decode() == exported.min_runtime_version
    assert len(md["min_runtime_version"]) == 16
    info = read_edgeq_metadata(exported.model)
    assert info["calibration_fingerprint"] == "abc123"
    assert info["preprocessing"] == {"mean": [0.5], "std": [0.25]}
    assert info["edgeq_version"] and info["precision"] == "int8"
    assert info["inputs"][0]["layout"] == "NHWC"
    from ai_edge_litert.interpreter import Interpreter

    sig = Interpreter(model_content=exported.model).get_signature_list()
    assert sig == {"serving_default": {"inputs": ["image"], "outputs": [exported.outputs[0].name]}}
    json.dumps(info)


def test_loads_and_runs_in_litert(exported):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    for resolver in (OpResolverType.AUTO, OpResolverType.BUILTIN_REF):
        it = Interpreter(model_content=exported.model, experimental_op_resolver_type=resolver)
        it.allocate_tensors()
        d = it.get_input_details()[0]
        assert tuple(d["shape"]) == (1, 32, 32, 3)
        it.set_tensor(d["index"], np.zeros(d["shape"], np.float32))
        it.invoke()
        out = it.get_tensor(it.get_output_details()[0]["index"])
        assert out.shape == (1, 10) and abs(float(out.sum()) - 1.0) < 0.05


def test_corrupt_model_is_rejected(exported):
    from ai_edge_litert.interpreter import Interpreter

    with pytest.raises(ValueError):
        Interpreter(model_content=exported.model[: len(exported.model) // 3])


def _vector_offsets(model: bytes, field: int) -> dict[bytes, list[int]]:
    """Content -> flatbuffer offsets of every tensor's quantization vector ``field``
    (vtable slots 8: scale, 10: zero_point of ``QuantizationParameters``)."""
    sub = schema.Model.GetRootAs(model, 0).Subgraphs(0)
    seen: dict[bytes, list[int]] = {}
    for i in range(sub.TensorsLength()):
        q = sub.Tensors(i).Quantization()
        if q is None or not q._tab.Offset(field):
            continue
        values = q.ScaleAsNumpy() if field == 8 else q.ZeroPointAsNumpy()
        seen.setdefault(values.tobytes(), []).append(q._tab.Vector(q._tab.Offset(field)))
    return seen


def test_quantization_vectors_are_stored_once_per_content(exported):
    zero_points = _vector_offsets(exported.model, 10)
    scales = _vector_offsets(exported.model, 8)
    # the per-channel filters and biases share all-zero zero-point vectors of one length
    assert any(len(k) > 8 and len(v) >= 4 for k, v in zero_points.items())
    assert all(len(set(offsets)) == 1 for offsets in zero_points.values())
    assert all(len(set(offsets)) == 1 for offsets in scales.values())


def test_size_breakdown_accounts_for_every_byte(exported):
    from edgeq_tflite.emit.size import size_breakdown

    size = size_breakdown(exported.model)
    assert size["total"] == len(exported.model)
    assert size["constant_data"] + size["scales"] + size["zero_points"] + size["graph"] == size["total"]
    consts = sum(n for _, n in _data_offsets(exported.model))
    assert size["constant_data"] == consts
    assert size["schema_floor"] == size["total"] - size["graph"] and size["graph"] > 0
