"""Model metadata entries written into the .tflite.

* ``min_runtime_version``: the oldest TF Lite runtime that has every operator version
  in the model, in a 16-byte zero-padded buffer - the layout
  ``UpdateMinimumRuntimeVersionForModel`` (tensorflow/lite/tools/versioning/
  runtime_version.cc) writes and the runtime reads.
* ``edgeq``: UTF-8 JSON with the edgeq version, the calibration fingerprint, the
  preprocessing the model expects, the I/O layouts and quantization (read back with
  :func:`read_metadata`).
"""

from __future__ import annotations

import json

MIN_RUNTIME_VERSION = "min_runtime_version"
EDGEQ_METADATA = "edgeq"
_RUNTIME_VERSION_BYTES = 16


def runtime_version_payload(version: str) -> bytes:
    raw = version.encode("ascii")
    assert len(raw) < _RUNTIME_VERSION_BYTES, version
    return raw.ljust(_RUNTIME_VERSION_BYTES, b"\0")


def edgeq_payload(info: dict) -> bytes:
    return json.dumps(info, sort_keys=True, default=str).encode("utf-8")


def read_metadata(model: bytes) -> dict[str, bytes]:
    """name -> raw bytes of every metadata entry of a .tflite flatbuffer."""
    from edgeq_tflite.emit.schema import schema

    m = schema.Model.GetRootAs(model, 0)
    out = {}
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        buf = m.Buffers(md.Buffer())
        out[md.Name().decode()] = buf.DataAsNumpy().tobytes() if not buf.DataIsNone() else b""
    return out


def read_edgeq_metadata(model: bytes) -> dict:
    """The edgeq JSON metadata of a .tflite (``{}`` if absent)."""
    raw = read_metadata(model).get(EDGEQ_METADATA)
    return json.loads(raw.decode("utf-8")) if raw else {}
