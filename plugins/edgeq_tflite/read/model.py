"""Read a ``.tflite`` file back into a summary, validating before trusting.

:func:`read_model` verifies the flatbuffer's structure first (read/verifier.py), then
reads it through the generated accessors and checks what LiteRT's interpreter builder
relies on (tensorflow/lite/core/interpreter_builder.cc): every tensor, buffer and
operator-code index in range, known tensor types and builtin codes, non-negative
shapes, constant buffers holding exactly ``prod(shape) · itemsize`` bytes, quantization
vectors of matching lengths with finite positive scales, a per-axis quantized
dimension inside the tensor's rank with one scale per channel, in-file buffer
offsets inside the file, and the edgeq metadata as UTF-8 JSON. Anything else is an
``ArtifactError`` naming the file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from edgeq.sdk import ArtifactError

from edgeq_tflite.read.verifier import FlatbufferError, verify_model

#: TensorType value -> (name, bytes per element; 0 = variable or packed, not checked)
_ITEMSIZE = {"FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "STRING": 0, "BOOL": 1,
             "INT16": 2, "COMPLEX64": 8, "INT8": 1, "FLOAT64": 8, "COMPLEX128": 16, "UINT64": 8,
             "RESOURCE": 0, "VARIANT": 0, "UINT32": 4, "UINT16": 2, "INT4": 0, "BFLOAT16": 2, "INT2": 0}


def _enum_names(enum) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


def read_model(path: Path, data: bytes | None = None) -> dict:
    """Summary of the TFLite model at ``path`` (``data``: its bytes, if already read):
    ``inputs``/``outputs`` (name, shape, dtype, quant of the model's own tensors),
    ``ops`` (builtin name -> count), ``tensors``, ``buffers``, ``metadata`` (entry name ->
    value: the runtime version string, the edgeq JSON, else the byte count)."""
    from edgeq_tflite.emit.schema import schema

    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{path}: cannot be read ({exc.strerror or exc}); rebuild the artifact") from None

    def bad(why: str) -> ArtifactError:
        return ArtifactError(f"{path}: not a valid TFLite model: {why}; the file is corrupt, "
                             "rebuild the artifact with 'edgeq build'")

    try:
        verify_model(data)
    except FlatbufferError as exc:
        raise bad(str(exc)) from None
    types = _enum_names(schema.TensorType)
    builtins = _enum_names(schema.BuiltinOperator)
    m = schema.Model.GetRootAs(data, 0)
    if m.Version() != 3:
        raise bad(f"schema version {m.Version()}, expected 3")
    n_buffers = m.BuffersLength()
    buffers = [m.Buffers(i) for i in range(n_buffers)]
    for i, b in enumerate(buffers):
        offset, size = b.Offset(), b.Size()
        if offset > 1 and offset + size > len(data):
            raise bad(f"buffer {i} points at bytes {offset}..{offset + size}, past the end of the file")
    codes = []
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        code = max(int(oc.DeprecatedBuiltinCode()), int(oc.BuiltinCode()))
        if code not in builtins:
            raise bad(f"operator code {i} has builtin code {code}, which TFLite does not define")
        codes.append(builtins[code] if code != schema.BuiltinOperator.CUSTOM
                     else f"CUSTOM:{(oc.CustomCode() or b'').decode('utf-8', 'replace')}")
    if m.SubgraphsLength() < 1:
        raise bad("no subgraph")
    ops: Counter[str] = Counter()
    summary_io: dict[str, list] = {"inputs": [], "outputs": []}
    n_tensors_total = 0
    for s in range(m.SubgraphsLength()):
        sub = m.Subgraphs(s)
        n_tensors = sub.TensorsLength()
        n_tensors_total += n_tensors
        tensors = [sub.Tensors(i) for i in range(n_tensors)]
        for i, t in enumerate(tensors):
            _check_tensor(t, i, s, types, buffers, bad)
        for kind, indices in (("input", sub.InputsAsNumpy()), ("output", sub.OutputsAsNumpy())):
            for k in np.atleast_1d(indices) if not isinstance(indices, int) else []:
                if not 0 <= int(k) < n_tensors:
                    raise bad(f"subgraph {s} {kind} {k} is not one of its {n_tensors} tensors")
                if s == 0:
                    summary_io[kind + "s"].append(_tensor_info(tensors[int(k)], types))
        for j in range(sub.OperatorsLength()):
            op = sub.Operators(j)
            if op.OpcodeIndex() >= len(codes):
                raise bad(f"subgraph {s} operator {j} uses operator code {op.OpcodeIndex()} of {len(codes)}")
            for kind, indices in (("input", op.InputsAsNumpy()), ("output", op.OutputsAsNumpy())):
                for k in np.atleast_1d(indices) if not isinstance(indices, int) else []:
                    if not -1 <= int(k) < n_tensors:
                        raise bad(f"subgraph {s} operator {j} ({codes[op.OpcodeIndex()]}) {kind} {k} "
                                  f"is not one of the {n_tensors} tensors")
            ops[codes[op.OpcodeIndex()]] += 1
    metadata = {}
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        if md.Buffer() >= n_buffers:
            raise bad(f"metadata entry {i} points at buffer {md.Buffer()} of {n_buffers}")
        name = (md.Name() or b"").decode("utf-8", "replace")
        buf = buffers[md.Buffer()]
        raw = b"" if buf.DataIsNone() else buf.DataAsNumpy().tobytes()
        metadata[name] = _metadata_value(name, raw, bad)
    return {"inputs": summary_io["inputs"], "outputs": summary_io["outputs"], "ops": dict(sorted(ops.items())),
            "subgraphs": m.SubgraphsLength(), "tensors": n_tensors_total, "buffers": n_buffers,
            "metadata": metadata}


def _check_tensor(t, i: int, s: int, types: dict, buffers: list, bad) -> None:
    name = (t.Name() or b"").decode("utf-8", "replace")
    where = f"tensor {i} ('{name}') of subgraph {s}"
    if t.Type() not in types:
        raise bad(f"{where} has type {t.Type()}, which TFLite does not define")
    shape = [] if t.ShapeIsNone() else [int(d) for d in t.ShapeAsNumpy()]
    if any(d < 0 for d in shape):
        raise bad(f"{where} has a negative dimension in shape {shape}")
    if t.Buffer() >= len(buffers):
        raise bad(f"{where} points at buffer {t.Buffer()} of {len(buffers)}")
    buf = buffers[t.Buffer()]
    itemsize = _ITEMSIZE.get(types[t.Type()], 0)
    if t.Buffer() and not buf.DataIsNone() and itemsize:
        expected = math.prod(shape) * itemsize
        if buf.DataLength() != expected:
            raise bad(f"{where} of shape {shape} ({types[t.Type()]}) needs {expected} bytes, its buffer "
                      f"{t.Buffer()} holds {buf.DataLength()}")
    q = t.Quantization()
    if q is None or q.ScaleIsNone():
        return
    scale = q.ScaleAsNumpy()
    zero_point = q.ZeroPointAsNumpy() if not q.ZeroPointIsNone() else np.zeros(0)
    if len(zero_point) != len(scale):
        raise bad(f"{where} has {len(scale)} scales but {len(zero_point)} zero points")
    if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
        raise bad(f"{where} has a non-finite or non-positive quantization scale")
    if len(scale) > 1:
        axis = q.QuantizedDimension()
        if not 0 <= axis < len(shape) or shape[axis] != len(scale):
            raise bad(f"{where} of shape {shape} has {len(scale)} per-axis scales on dimension {axis}")


def _tensor_info(t, types: dict) -> dict:
    q = t.Quantization()
    quant = None
    if q is not None and not q.ScaleIsNone():
        quant = {"scale": [float(x) for x in q.ScaleAsNumpy()],
                 "zero_point": [int(x) for x in q.ZeroPointAsNumpy()] if not q.ZeroPointIsNone() else [],
                 "quantized_dimension": int(q.QuantizedDimension())}
    return {"name": (t.Name() or b"").decode("utf-8", "replace"),
            "shape": [] if t.ShapeIsNone() else [int(d) for d in t.ShapeAsNumpy()],
            "dtype": types[t.Type()].lower(), "quant": quant}


def _metadata_value(name: str, raw: bytes, bad):
    from edgeq_tflite.emit.metadata import EDGEQ_METADATA, MIN_RUNTIME_VERSION

    if name == MIN_RUNTIME_VERSION:
        return raw.rstrip(b"\0").decode("ascii", "replace")
    if name == EDGEQ_METADATA:
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise bad(f"the '{EDGEQ_METADATA}' metadata is not UTF-8 JSON ({exc})") from None
    return f"{len(raw)} bytes"
