"""A bounds-checking verifier of TFLite flatbuffers, in Python.

The generated Python accessors (``ai_edge_litert.schema_py_generated``) trust every
offset: on a corrupt file they raise ``struct.error``/``IndexError`` deep inside, or
silently return values read from the wrong bytes. :func:`verify_model` walks the file
the way flatbuffers' C++ ``Verifier`` does (flatbuffers/verifier.h) before anything
reads it through those accessors or hands it to LiteRT:

* the root offset, every table's vtable (its size and the table's inline size, both in
  the file; every field inside the table's inline size), every ``uoffset`` (it points
  forward, flatbuffers offsets are unsigned), every vector (its length word and
  elements in the file), every string (its bytes and NUL terminator in the file);
* the tables of tflite's schema (tensorflow/lite/schema/schema.fbs) field by field, as
  far as edgeq reads them: Model, OperatorCode, SubGraph, Tensor,
  QuantizationParameters, Operator, Buffer, Metadata, SignatureDef, TensorMap. Union
  options, sparsity and the newer external-buffer tables are checked as tables (vtable
  and inline size), not field by field; LiteRT's own verifier checks their contents.

Limits (as the C++ verifier's ``max_depth``/``max_tables``) bound the work on a file
whose vectors all point at one large table. Errors are :class:`FlatbufferError`
with what is wrong and where (byte offset); the caller adds the file name.
"""

from __future__ import annotations

import struct

#: as flatbuffers' Verifier: deepest nesting and most tables visited before giving up
MAX_DEPTH = 64
MAX_TABLES = 200_000

#: field kinds: scalar sizes by name, and references
_SCALARS = {"u8": 1, "i8": 1, "bool": 1, "i32": 4, "u32": 4, "u64": 8}
_ELEMENT = {"vec_u8": 1, "vec_bool": 1, "vec_i32": 4, "vec_f32": 4, "vec_i64": 8}

#: table name -> {vtable offset: (field name, kind)}; kinds: a scalar, "str", "vec_*"
#: of scalars, ("table", name), ("vec_table", name); name None = checked as a table only
SCHEMA: dict[str, dict[int, tuple[str, object]]] = {
    "Model": {4: ("version", "u32"), 6: ("operator_codes", ("vec_table", "OperatorCode")),
              8: ("subgraphs", ("vec_table", "SubGraph")), 10: ("description", "str"),
              12: ("buffers", ("vec_table", "Buffer")), 14: ("metadata_buffer", "vec_i32"),
              16: ("metadata", ("vec_table", "Metadata")),
              18: ("signature_defs", ("vec_table", "SignatureDef")),
              20: ("external_buffer_groups", ("vec_table", None)),
              22: ("external_buffers", ("vec_table", None))},
    "OperatorCode": {4: ("deprecated_builtin_code", "i8"), 6: ("custom_code", "str"),
                     8: ("version", "i32"), 10: ("builtin_code", "i32")},
    "SubGraph": {4: ("tensors", ("vec_table", "Tensor")), 6: ("inputs", "vec_i32"),
                 8: ("outputs", "vec_i32"), 10: ("operators", ("vec_table", "Operator")),
                 12: ("name", "str"), 14: ("debug_metadata_index", "i32")},
    "Tensor": {4: ("shape", "vec_i32"), 6: ("type", "i8"), 8: ("buffer", "u32"), 10: ("name", "str"),
               12: ("quantization", ("table", "QuantizationParameters")), 14: ("is_variable", "bool"),
               16: ("sparsity", ("table", None)), 18: ("shape_signature", "vec_i32"),
               20: ("has_rank", "bool"), 22: ("variant_tensors", ("vec_table", None)),
               24: ("external_buffer", "u32")},
    "QuantizationParameters": {4: ("min", "vec_f32"), 6: ("max", "vec_f32"), 8: ("scale", "vec_f32"),
                               10: ("zero_point", "vec_i64"), 12: ("details_type", "u8"),
                               14: ("details", ("table", None)), 16: ("quantized_dimension", "i32")},
    "Operator": {4: ("opcode_index", "u32"), 6: ("inputs", "vec_i32"), 8: ("outputs", "vec_i32"),
                 10: ("builtin_options_type", "u8"), 12: ("builtin_options", ("table", None)),
                 14: ("custom_options", "vec_u8"), 16: ("custom_options_format", "i8"),
                 18: ("mutating_variable_inputs", "vec_bool"), 20: ("intermediates", "vec_i32"),
                 22: ("large_custom_options_offset", "u64"), 24: ("large_custom_options_size", "u64"),
                 26: ("builtin_options_2_type", "u8"), 28: ("builtin_options_2", ("table", None)),
                 30: ("debug_metadata_index", "i32")},
    "Buffer": {4: ("data", "vec_u8"), 6: ("offset", "u64"), 8: ("size", "u64")},
    "Metadata": {4: ("name", "str"), 6: ("buffer", "u32")},
    "SignatureDef": {4: ("inputs", ("vec_table", "TensorMap")), 6: ("outputs", ("vec_table", "TensorMap")),
                     8: ("signature_key", "str"), 12: ("subgraph_index", "u32")},
    "TensorMap": {4: ("name", "str"), 6: ("tensor_index", "u32")},
}


class FlatbufferError(ValueError):
    """A flatbuffer that does not hold together (an offset or length outside the file…)."""


class _Walker:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.n = len(buf)
        self.tables = 0

    def need(self, at: int, size: int, what: str) -> None:
        if at < 0 or size < 0 or at + size > self.n:
            raise FlatbufferError(f"{what} at byte {at} (+{size}) lies outside the file ({self.n} bytes)")

    def u16(self, at: int, what: str) -> int:
        self.need(at, 2, what)
        return struct.unpack_from("<H", self.buf, at)[0]

    def u32(self, at: int, what: str) -> int:
        self.need(at, 4, what)
        return struct.unpack_from("<I", self.buf, at)[0]

    def i32(self, at: int, what: str) -> int:
        self.need(at, 4, what)
        return struct.unpack_from("<i", self.buf, at)[0]

    def deref(self, at: int, what: str) -> int:
        """The position a uoffset at ``at`` points to (forward, inside the file)."""
        target = at + self.u32(at, what)
        self.need(target, 4, f"{what} (target)")
        return target

    def vector(self, at: int, elem: int, what: str) -> tuple[int, int]:
        """(first element position, length) of the vector starting at ``at``."""
        length = self.u32(at, f"{what} length")
        self.need(at + 4, length * elem, what)
        return at + 4, length

    def string(self, at: int, what: str) -> None:
        start, length = self.vector(at, 1, what)
        self.need(start + length, 1, f"{what} terminator")
        if self.buf[start + length] != 0:
            raise FlatbufferError(f"{what} at byte {at} is not NUL-terminated")

    def table(self, at: int, name: str | None, what: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise FlatbufferError(f"{what}: tables nested deeper than {MAX_DEPTH}")
        self.tables += 1
        if self.tables > MAX_TABLES:
            raise FlatbufferError(f"more than {MAX_TABLES} tables; not a model edgeq wrote")
        vtable = at - self.i32(at, f"{what} vtable offset")
        vt_size = self.u16(vtable, f"{what} vtable size")
        table_size = self.u16(vtable + 2, f"{what} table size")
        if vt_size < 4 or vt_size % 2:
            raise FlatbufferError(f"{what} at byte {at}: vtable size {vt_size} is invalid")
        self.need(vtable, vt_size, f"{what} vtable")
        self.need(at, max(table_size, 4), f"{what} table")
        fields = SCHEMA.get(name, {}) if name else {}
        for slot in range(4, vt_size, 2):
            off = self.u16(vtable + slot, f"{what} vtable entry")
            if not off:
                continue
            field, kind = fields.get(slot, (f"field@{slot}", None))
            # an unknown field's size is unknown: at least its first byte is in the table
            size = 1 if kind is None else _SCALARS.get(kind, 4)  # type: ignore[call-overload]
            if off + size > table_size:
                raise FlatbufferError(f"{what}.{field} at byte {at + off} lies outside its table "
                                      f"({table_size} bytes)")
            if kind is None or kind in _SCALARS:
                continue
            self.field(at + off, field, kind, f"{what}.{field}", depth)

    def field(self, pos: int, field: str, kind: object, what: str, depth: int) -> None:
        target = self.deref(pos, what)
        if kind == "str":
            self.string(target, what)
        elif kind in _ELEMENT:
            self.vector(target, _ELEMENT[kind], what)  # type: ignore[index]
        elif isinstance(kind, tuple) and kind[0] == "table":
            self.table(target, kind[1], what, depth + 1)
        elif isinstance(kind, tuple) and kind[0] == "vec_table":
            start, length = self.vector(target, 4, what)
            for i in range(length):
                self.table(self.deref(start + 4 * i, f"{what}[{i}]"), kind[1], f"{what}[{i}]", depth + 1)


def verify_model(buf: bytes) -> None:
    """Raise :class:`FlatbufferError` unless ``buf`` is a structurally sound TFLite
    ``Model`` flatbuffer (see the module docstring); return quietly otherwise."""
    if len(buf) < 8:
        raise FlatbufferError(f"{len(buf)} bytes: too short for a flatbuffer")
    if buf[4:8] != b"TFL3":
        raise FlatbufferError(f"file identifier {bytes(buf[4:8])!r}, expected b'TFL3' (not a TFLite model)")
    walker = _Walker(bytes(buf))
    walker.table(walker.deref(0, "root offset"), "Model", "Model", 0)
