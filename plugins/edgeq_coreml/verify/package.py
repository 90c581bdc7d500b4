"""Read a ``.mlpackage`` defensively, in Python, before coremltools' native code does.

coremltools reads a package's ``Manifest.json`` with its C++ model-package library and
the weights with its C++ blob reader (``libmilstoragepython``), which trust the offsets
they are given. :func:`read_package` checks everything those readers will touch:

* ``Manifest.json``: a JSON object with ``fileFormatVersion``, ``itemInfoEntries``
  (id -> ``{"path", …}``, every path relative and inside the package's ``Data``
  directory) and a ``rootModelIdentifier`` naming one of them, which is a file;
* the model spec (``Model`` protobuf, parsed by the protobuf runtime): an ML Program
  with a ``main`` function whose block for its opset exists;
* every weight the program references (``blobFileValue``): the file is
  ``@model_path/weights/…`` inside the package; the weight file's header (64 bytes:
  blob count, version 2) and the blob's metadata record at the referenced offset
  (64 bytes: sentinel ``0xDEADBEEF``, data type, size, data offset) lie in the file; the
  data lies in the file after its record; and its size is the tensor's (dims times the
  element's bits) for the element types with a fixed size.

The layout of the weight file is that of coremltools' MIL blob storage (``storage_header``
and ``blob_metadata`` in mlmodel/src/MILBlob/Blob/StorageFormat.hpp). Returns the
summary: ops by type (nested blocks included), inputs/outputs from the model
description, the user-defined metadata, the spec version; every problem is an
``ArtifactError`` naming the file.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter
from pathlib import Path

from edgeq.sdk import ArtifactError, require_module

HEADER_BYTES = 64
RECORD_BYTES = 64
SENTINEL = 0xDEADBEEF
#: bits per element of MIL proto DataType values with a fixed size (MIL.proto)
_BITS = {10: 16, 11: 32, 12: 64, 13: 16, 21: 8, 22: 16, 23: 32, 24: 64, 25: 4, 31: 8, 32: 16,
         33: 32, 34: 64, 35: 4, 36: 2, 37: 1, 38: 6, 39: 3, 40: 8, 41: 8, 1: 8}
#: deepest nesting of blocks followed (a program edgeq writes nests a few)
MAX_BLOCK_DEPTH = 32


def _bad(path: Path, why: str) -> ArtifactError:
    return ArtifactError(f"{path}: {why}; the package is corrupt, rebuild the artifact with "
                         "'edgeq build'")


def _inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` if ``rel`` is a relative path that stays inside ``root``, else None."""
    if not isinstance(rel, str) or not rel or "\0" in rel or Path(rel).is_absolute():
        return None
    if ".." in Path(rel).parts:
        return None
    return root / rel


def read_manifest(package: Path) -> Path:
    """Check the package's Manifest.json; return the root model spec's path."""
    mf = package / "Manifest.json"
    try:
        doc = json.loads(mf.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise _bad(package, "not a .mlpackage (no Manifest.json)") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(mf, f"not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("fileFormatVersion"), str):
        raise _bad(mf, "not a package manifest (no fileFormatVersion)")
    entries = doc.get("itemInfoEntries")
    root_id = doc.get("rootModelIdentifier")
    if not isinstance(entries, dict) or not isinstance(root_id, str) or root_id not in entries:
        raise _bad(mf, "rootModelIdentifier does not name one of itemInfoEntries")
    data = package / "Data"
    root = None
    for key, entry in entries.items():
        if not isinstance(entry, dict) or _inside(data, entry.get("path")) is None:
            raise _bad(mf, f"item '{key}' has no path inside the package's Data directory")
        for field in ("name", "author", "description"):
            if field in entry and not isinstance(entry[field], str):
                raise _bad(mf, f"item '{key}': {field} is not a string")
        if key == root_id:
            root = _inside(data, entry["path"])
    assert root is not None
    if not root.is_file():
        raise _bad(mf, f"the root model '{root.relative_to(package)}' is not a file in the package")
    return root


def read_package(package: str | Path) -> dict:
    """The summary of a ``.mlpackage`` (see the module docstring), checked."""
    require_module("coremltools", "coremltools", "reading Core ML packages")
    from google.protobuf.message import DecodeError

    from coremltools.proto import Model_pb2

    package = Path(package)
    if not package.is_dir():
        raise _bad(package, "not a .mlpackage directory")
    spec_path = read_manifest(package)
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(spec_path.read_bytes())
    except (DecodeError, RecursionError, ValueError) as exc:
        raise _bad(spec_path, f"not a Core ML model spec ({type(exc).__name__}: {exc})") from None
    if spec.WhichOneof("Type") != "mlProgram":
        raise _bad(spec_path, f"holds a '{spec.WhichOneof('Type')}' model, not an ML Program")
    if not 1 <= spec.specificationVersion <= 64:
        raise _bad(spec_path, f"specification version {spec.specificationVersion} is not one Core ML has")
    functions = spec.mlProgram.functions
    if "main" not in functions:
        raise _bad(spec_path, "the ML Program has no 'main' function")
    main = functions["main"]
    if main.opset not in main.block_specializations:
        raise _bad(spec_path, f"function 'main' has no block for its opset '{main.opset}'")
    ops: Counter[str] = Counter()
    blobs = _BlobChecker(spec_path.parent, spec_path)
    _walk(main.block_specializations[main.opset], ops, blobs, spec_path, 0)

    def io(features) -> list[dict]:
        out = []
        for f in features:
            kind = f.type.WhichOneof("Type")
            shape = list(f.type.multiArrayType.shape) if kind == "multiArrayType" else \
                [f.type.imageType.height, f.type.imageType.width] if kind == "imageType" else []
            out.append({"name": f.name, "type": kind, "shape": [int(d) for d in shape]})
        return out

    return {"ops": dict(sorted(ops.items())), "inputs": io(spec.description.input),
            "outputs": io(spec.description.output),
            "metadata": dict(sorted(spec.description.metadata.userDefined.items())),
            "specification_version": int(spec.specificationVersion), "blobs": blobs.count}


def _walk(block, ops: Counter, blobs: "_BlobChecker", spec_path: Path, depth: int) -> None:
    if depth > MAX_BLOCK_DEPTH:
        raise _bad(spec_path, f"blocks nested deeper than {MAX_BLOCK_DEPTH}")
    for op in block.operations:
        ops[op.type] += 1
        for value in op.attributes.values():
            blobs.check(value, op)
        for arg in op.inputs.values():
            for binding in arg.arguments:
                if binding.WhichOneof("binding") == "value":
                    blobs.check(binding.value, op)
        for inner in op.blocks:
            _walk(inner, ops, blobs, spec_path, depth + 1)


class _BlobChecker:
    """Checks each ``blobFileValue`` against the weight file it names (read once)."""

    def __init__(self, model_dir: Path, spec_path: Path) -> None:
        self.model_dir = model_dir
        self.spec_path = spec_path
        self.files: dict[str, tuple[Path, bytes]] = {}
        self.count = 0

    def _file(self, name: str, op) -> tuple[Path, bytes]:
        if name not in self.files:
            prefix = "@model_path/"
            rel = name[len(prefix):] if name.startswith(prefix) else None
            path = _inside(self.model_dir, rel) if rel else None
            if path is None or not rel.startswith("weights/"):
                raise _bad(self.spec_path, f"op '{op.type}' references the weight file '{name[:80]}', "
                                           "not one inside the package's weights directory")
            try:
                data = path.read_bytes()
            except OSError:
                raise _bad(path, f"missing or unreadable (op '{op.type}' reads its weights)") from None
            if len(data) < HEADER_BYTES:
                raise _bad(path, f"{len(data)} bytes: too short for a weight file header")
            count, version = struct.unpack_from("<II", data, 0)
            if version != 2:
                raise _bad(path, f"weight file version {version}, expected 2")
            self.files[name] = (path, data)
        return self.files[name]

    def check(self, value, op) -> None:
        if value.WhichOneof("value") != "blobFileValue":
            return
        self.count += 1
        blob = value.blobFileValue
        path, data = self._file(blob.fileName, op)
        at = int(blob.offset)
        where = f"the weights of op '{op.type}' (record at byte {at})"
        if at < HEADER_BYTES or at + RECORD_BYTES > len(data):
            raise _bad(path, f"{where}: the record lies outside the file ({len(data)} bytes)")
        sentinel, _dtype, size, offset = struct.unpack_from("<IIQQ", data, at)
        if sentinel != SENTINEL:
            raise _bad(path, f"{where}: no blob record there (sentinel {sentinel:#x})")
        if offset < at + RECORD_BYTES or offset + size > len(data):
            raise _bad(path, f"{where}: data at bytes {offset}..{offset + size} lies outside the file "
                             f"or before its record")
        tensor = value.type.tensorType
        bits = _BITS.get(int(tensor.dataType))
        dims = [d.constant.size if d.WhichOneof("dimension") == "constant" else None
                for d in tensor.dimensions]
        if bits and value.type.WhichOneof("type") == "tensorType" and None not in dims:
            expected = math.ceil(math.prod(dims) * bits / 8)
            if size != expected:
                raise _bad(path, f"{where}: holds {size} bytes, the tensor of shape {dims} needs {expected}")
