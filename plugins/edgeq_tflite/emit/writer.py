"""Write a TFLite flatbuffer with the generated object API of
``ai_edge_litert.schema_py_generated`` (no TensorFlow).

:class:`ModelWriter` collects tensors, constant buffers, operators, metadata and one
signature, then :meth:`ModelWriter.finish` packs a single-subgraph ``Model``:

* ``Model.version = 3`` and file identifier ``TFL3`` (tensorflow/lite/schema/schema.fbs);
* ``buffers[0]`` is the empty sentinel buffer every non-constant tensor points at;
* every constant buffer's data starts on a 16-byte boundary of the file. The generated
  ``BufferT.Pack`` uses ``CreateNumpyVector`` which only aligns to the element size, so
  :class:`AlignedBufferT` re-implements it with ``StartVector(..., alignment=16)`` - the
  same thing the converter does with ``FlatBufferBuilder::ForceVectorAlignment``
  (tensorflow/compiler/mlir/lite/flatbuffer_export.cc). Flatbuffers align relative to
  the end of the buffer and ``Finish`` pads the whole file to the largest alignment
  seen, so end-relative alignment is file-relative alignment.
* operator codes are deduplicated per builtin; a code's version is the maximum version
  any of its operators needs (``UpdateOpVersion`` in
  tensorflow/lite/tools/versioning/op_version.cc keeps the highest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import flatbuffers
import numpy as np

from edgeq.sdk import QuantParams

from edgeq_tflite.emit.schema import schema

#: alignment of constant buffer data in the file (bytes)
BUFFER_ALIGNMENT = 16

_TFLITE_TYPES = {
    np.dtype(np.float32): "FLOAT32",
    np.dtype(np.float16): "FLOAT16",
    np.dtype(np.int32): "INT32",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.int64): "INT64",
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.int16): "INT16",
    np.dtype(np.int8): "INT8",
}


def tflite_type(dtype) -> int:
    """The ``TensorType`` enum value of a numpy dtype."""
    dtype = np.dtype(dtype)
    try:
        return getattr(schema.TensorType, _TFLITE_TYPES[dtype])
    except KeyError:
        raise TypeError(f"numpy dtype {dtype} has no TFLite tensor type") from None


class AlignedBufferT(schema.BufferT):
    """A ``BufferT`` whose data vector starts on a ``BUFFER_ALIGNMENT`` boundary."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 - generated API name
        data_off = None
        if self.data is not None:
            payload = bytes(self.data)
            builder.StartVector(1, len(payload), BUFFER_ALIGNMENT)
            builder.head = builder.head - len(payload)
            builder.Bytes[builder.head:builder.head + len(payload)] = payload
            builder.vectorNumElems = len(payload)
            data_off = builder.EndVector()
        schema.BufferStart(builder)
        if data_off is not None:
            schema.BufferAddData(builder, data_off)
        return schema.BufferEnd(builder)


@dataclass
class TensorInfo:
    """What the writer knows about one emitted tensor (used by lowerings)."""

    index: int
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    quant: QuantParams | None


def _options_type(options) -> int:
    """``BuiltinOptions`` union tag of an options object, e.g. Conv2DOptionsT -> 1."""
    name = type(options).__name__
    assert name.endswith("T"), name
    return getattr(schema.BuiltinOptions, name[:-1])


class SharedQuantizationT(schema.QuantizationParametersT):
    """``QuantizationParametersT`` whose scale / zero-point vectors are written once per
    distinct content and shared (flatbuffers tables may reference the same vector).
    Per-channel zero points are all 0, so every tensor with the same channel count
    shares one vector instead of storing 8 bytes per channel again."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 - generated API name
        cache = self.cache  # set by ModelWriter.finish, one dict per packed model

        def vector(arr: np.ndarray) -> int:
            key = (arr.dtype.str, arr.tobytes())
            if key not in cache:
                cache[key] = builder.CreateNumpyVector(arr)
            return cache[key]

        scale = vector(np.asarray(self.scale, np.float32))
        zero_point = vector(np.asarray(self.zeroPoint, np.int64))
        schema.QuantizationParametersStart(builder)
        schema.QuantizationParametersAddScale(builder, scale)
        schema.QuantizationParametersAddZeroPoint(builder, zero_point)
        schema.QuantizationParametersAddQuantizedDimension(builder, self.quantizedDimension)
        return schema.QuantizationParametersEnd(builder)


def quantization_params(q: QuantParams | None, *, zero_point_shift: int = 0):
    """``QuantizationParametersT`` of ``q`` (``None`` for float tensors)."""
    if q is None:
        return None
    qp = SharedQuantizationT()
    qp.scale = np.asarray(q.scale, np.float32)
    qp.zeroPoint = np.asarray(q.zero_point, np.int64) + zero_point_shift
    qp.quantizedDimension = int(q.axis) if q.axis is not None else 0
    return qp


class ModelWriter:
    """Builds one TFLite model (one subgraph) incrementally."""

    def __init__(self, description: str = "edgeq") -> None:
        self.description = description
        self.tensors: list[TensorInfo] = []
        self._tensor_t: list = []
        self._by_name: dict[str, int] = {}
        self.buffers: list[AlignedBufferT] = [AlignedBufferT()]  # buffers[0]: empty sentinel
        self._buffer_by_digest: dict[bytes, int] = {}
        self.operators: list = []
        self._opcodes: dict[int, int] = {}  # builtin code -> index into _opcode_t
        self._opcode_t: list = []
        self.metadata: list[tuple[str, int]] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    # -- tensors -----------------------------------------------------------------
    def has_tensor(self, name: str) -> bool:
        return name in self._by_name

    def tensor(self, name: str) -> TensorInfo:
        return self.tensors[self._by_name[name]]

    def unique_name(self, base: str) -> str:
        if base not in self._by_name:
            return base
        i = 1
        while f"{base}_{i}" in self._by_name:
            i += 1
        return f"{base}_{i}"

    def add_tensor(self, name: str, dtype, shape, *, quant: QuantParams | None = None,
                   data: np.ndarray | None = None, zero_point_shift: int = 0,
                   variable: bool = False) -> TensorInfo:
        """Add a tensor (a constant when ``data`` is given); ``name`` must be new.

        ``variable`` marks a state tensor an operator updates in place across
        invocations (schema.fbs ``Tensor.is_variable``; the LSTM kernels require it for
        their output and cell state inputs)."""
        assert name not in self._by_name, f"tensor {name!r} emitted twice"
        dtype = np.dtype(dtype)
        shape = tuple(int(d) for d in shape)
        t = schema.TensorT()
        t.name = name
        t.type = tflite_type(dtype)
        t.shape = list(shape)
        t.quantization = quantization_params(quant, zero_point_shift=zero_point_shift)
        t.buffer = 0
        t.isVariable = bool(variable)
        if data is not None:
            arr = np.asarray(data, dtype=dtype)  # (ascontiguousarray would make 0-d arrays 1-d)
            arr = arr if arr.flags.c_contiguous else arr.copy(order="C")
            assert arr.shape == shape, (name, arr.shape, shape)
            t.buffer = self._add_buffer(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
        info = TensorInfo(len(self.tensors), name, dtype, shape, quant)
        self.tensors.append(info)
        self._tensor_t.append(t)
        self._by_name[name] = info.index
        return info

    def mark_variable(self, index: int) -> None:
        """Mark tensor ``index`` as an operator's in-place state (``is_variable``)."""
        self._tensor_t[index].isVariable = True

    def add_constant(self, base: str, data: np.ndarray, *, quant: QuantParams | None = None) -> TensorInfo:
        """A constant tensor with a fresh name derived from ``base``."""
        data = np.asarray(data)
        return self.add_tensor(self.unique_name(base), data.dtype, data.shape, quant=quant, data=data)

    def _add_buffer(self, payload: bytes) -> int:
        # identical constants (shape vectors, repeated weights) share one buffer
        digest = hashlib.sha256(payload).digest() + len(payload).to_bytes(8, "little")
        if digest in self._buffer_by_digest:
            return self._buffer_by_digest[digest]
        self.buffers.append(AlignedBufferT(data=np.frombuffer(payload, np.uint8)))
        self._buffer_by_digest[digest] = len(self.buffers) - 1
        return len(self.buffers) - 1

    # -- operators ---------------------------------------------------------------
    def add_operator(self, builtin: int, inputs: list[int], outputs: list[int], *,
                     options=None, version: int = 1, intermediates: list[int] | None = None) -> None:
        """Append an operator; ``-1`` in ``inputs`` marks an omitted optional input.
        ``intermediates`` lists tensors that only carry quantization parameters of values
        inside the kernel (schema.fbs ``Operator.intermediates``: the integer LSTM's gate
        and hidden scales)."""
        if builtin not in self._opcodes:
            code = schema.OperatorCodeT()
            code.builtinCode = builtin
            # deprecated_builtin_code is an int8: codes above 127 use the placeholder
            # (schema.fbs, "PLACEHOLDER_FOR_GREATER_OP_CODES").
            code.deprecatedBuiltinCode = min(builtin, 127)
            code.version = version
            self._opcodes[builtin] = len(self._opcode_t)
            self._opcode_t.append(code)
        code = self._opcode_t[self._opcodes[builtin]]
        code.version = max(code.version, version)
        op = schema.OperatorT()
        op.opcodeIndex = self._opcodes[builtin]
        op.inputs = list(inputs)
        op.outputs = list(outputs)
        if intermediates:
            op.intermediates = list(intermediates)
        if options is not None:
            op.builtinOptionsType = _options_type(options)
            op.builtinOptions = options
        self.operators.append(op)

    def opcode_versions(self) -> dict[int, int]:
        """builtin code -> emitted version."""
        return {c.builtinCode: c.version for c in self._opcode_t}

    def operator_codes(self) -> list[int]:
        """builtin code of every operator, in order."""
        return [self._opcode_t[op.opcodeIndex].builtinCode for op in self.operators]

    # -- model -------------------------------------------------------------------
    def add_metadata(self, name: str, payload: bytes) -> None:
        self.buffers.append(AlignedBufferT(data=np.frombuffer(payload, np.uint8)))
        self.metadata.append((name, len(self.buffers) - 1))

    def finish(self, *, signature_key: str = "serving_default",
               input_names: list[str] | None = None, output_names: list[str] | None = None) -> bytes:
        """Pack the model; the signature maps ``input_names``/``output_names`` (default:
        the tensor names) to the subgraph inputs/outputs."""
        sub = schema.SubGraphT()
        sub.tensors = self._tensor_t
        sub.inputs = list(self.inputs)
        sub.outputs = list(self.outputs)
        sub.operators = self.operators
        sub.name = "main"

        sig = schema.SignatureDefT()
        sig.signatureKey = signature_key
        sig.subgraphIndex = 0
        in_names = input_names or [self.tensors[i].name for i in self.inputs]
        out_names = output_names or [self.tensors[i].name for i in self.outputs]
        sig.inputs = [_tensor_map(n, i) for n, i in zip(in_names, self.inputs)]
        sig.outputs = [_tensor_map(n, i) for n, i in zip(out_names, self.outputs)]

        model = schema.ModelT()
        model.version = 3
        model.description = self.description
        model.operatorCodes = self._opcode_t
        model.subgraphs = [sub]
        model.buffers = self.buffers
        model.signatureDefs = [sig]
        if self.metadata:
            md = []
            for name, buf in self.metadata:
                m = schema.MetadataT()
                m.name = name
                m.buffer = buf
                md.append(m)
            model.metadata = md

        shared: dict = {}
        for t in self._tensor_t:
            if t.quantization is not None:
                t.quantization.cache = shared
        size_hint = 1024 + sum(len(b.data) + BUFFER_ALIGNMENT for b in self.buffers if b.data is not None)
        builder = flatbuffers.Builder(size_hint)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def _tensor_map(name: str, index: int):
    tm = schema.TensorMapT()
    tm.name = name
    tm.tensorIndex = index
    return tm
