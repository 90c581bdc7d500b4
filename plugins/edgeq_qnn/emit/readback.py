"""Read a QNN artifact's files back, validating before trusting (``QnnTarget.read_artifact``).

* ``model.qdq.onnx`` and ``model_ctx.onnx``: parsed by the protobuf runtime, then
  checked in Python before onnx's checker (C++) or onnxruntime see them: a graph with
  inputs, outputs and nodes; initializers of a known data type whose stored bytes fit
  their dims; every node input produced by a graph input, an initializer or a node;
  every graph output produced. Then ``onnx.checker`` (its errors become ArtifactError).
* the EPContext model: exactly one ``com.microsoft`` ``EPContext`` node, not embedded
  (``embed_mode`` 0), whose ``ep_cache_context`` names a file of the artifact directory
  itself (no path separators) - the context binary the manifest records, which the
  base reader has checked by size and sha256 (the binary's own format is QNN's, opaque
  to edgeq; that hash is what guards it);
* ``encodings.json``: AIMET's format as emit/encodings.py writes it - ``version``, and
  ``activation_encodings``/``param_encodings`` mapping tensor names to non-empty lists
  of entries with an integer ``bitwidth`` (4, 8, 16, 32), ``dtype`` "int" or "float",
  ``is_symmetric`` "True"/"False", a finite positive ``scale``, an integer ``offset``
  and finite ``min`` <= ``max``.

Every problem is an ``ArtifactError`` naming the file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

from edgeq.sdk import ArtifactError

_BITWIDTHS = (4, 8, 16, 32)


def _bad(path: Path, why: str) -> ArtifactError:
    return ArtifactError(f"{path}: {why}; the file is corrupt, rebuild the artifact with 'edgeq build'")


def read_onnx(path: Path):
    """Parse and check an ONNX file of the artifact; return the ModelProto."""
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import helper

    try:
        model = onnx.ModelProto.FromString(path.read_bytes())
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    except (DecodeError, RecursionError, ValueError) as exc:
        raise _bad(path, f"not an ONNX model ({type(exc).__name__})") from None
    g = model.graph
    if model.ir_version <= 0 or not model.opset_import or not g.node or not g.input or not g.output:
        raise _bad(path, "not an ONNX model (no IR version, opset, nodes, inputs or outputs)")
    known_types = {t for t in onnx.TensorProto.DataType.values() if t}
    available = {vi.name for vi in g.input}
    for init in g.initializer:
        if init.data_type not in known_types or any(d < 0 for d in init.dims):
            raise _bad(path, f"initializer '{init.name}' has data type {init.data_type} or dims "
                             f"{list(init.dims)} that ONNX does not allow")
        if init.HasField("raw_data") and init.data_type not in (onnx.TensorProto.STRING,
                                                                 onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
            size = math.prod(init.dims) * helper.tensor_dtype_to_np_dtype(init.data_type).itemsize
            if len(init.raw_data) != size:
                raise _bad(path, f"initializer '{init.name}' of dims {list(init.dims)} stores "
                                 f"{len(init.raw_data)} bytes, not {size}")
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise _bad(path, f"initializer '{init.name}' keeps its data in an external file; edgeq "
                             "writes every weight into the model")
        available.add(init.name)
    for node in g.node:
        missing = [i for i in node.input if i and i not in available]
        if missing:
            raise _bad(path, f"node '{node.name}' ({node.op_type}) reads {missing[0]!r}, which no "
                             "input, initializer or earlier node produces")
        available.update(o for o in node.output if o)
    for out in g.output:
        if out.name not in available:
            raise _bad(path, f"graph output '{out.name}' is produced by no node")
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, UnicodeDecodeError) as exc:
        raise _bad(path, f"invalid ONNX model ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})") from None
    return model


def op_counts(model) -> dict[str, int]:
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def io_names(model) -> tuple[list[str], list[str]]:
    inits = {i.name for i in model.graph.initializer}
    return [vi.name for vi in model.graph.input if vi.name not in inits], [vi.name for vi in model.graph.output]


def io_shapes(model) -> dict[str, list]:
    """name -> declared dims (ints; a symbolic dim as its name) of the graph's inputs and outputs."""
    return {vi.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                      for d in vi.type.tensor_type.shape.dim]
            for vi in list(model.graph.input) + list(model.graph.output)}


def io_dtypes(model) -> dict[str, str]:
    """name -> numpy dtype name of the graph's inputs and outputs (``"?"`` if unknown)."""
    import onnx

    out = {}
    for vi in list(model.graph.input) + list(model.graph.output):
        try:
            out[vi.name] = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type).name
        except (KeyError, TypeError, ValueError):
            out[vi.name] = "?"
    return out


def read_context_model(path: Path, binary_file: str) -> dict:
    """Check the EPContext model and that it references ``binary_file``; return what it says."""
    model = read_onnx(path)
    nodes = [n for n in model.graph.node if n.op_type == "EPContext"]
    if len(nodes) != 1 or len(model.graph.node) != 1 or nodes[0].domain != "com.microsoft":
        raise _bad(path, f"expected one com.microsoft EPContext node, found "
                         f"{[n.op_type for n in model.graph.node][:5]}")
    attrs = {a.name: a for a in nodes[0].attribute}
    embed = attrs.get("embed_mode")
    ref = attrs.get("ep_cache_context")
    if embed is None or embed.type != embed.INT or embed.i != 0:
        raise _bad(path, "the EPContext node embeds its context (embed_mode is not 0)")
    if ref is None or ref.type != ref.STRING:
        raise _bad(path, "the EPContext node names no context binary (ep_cache_context)")
    try:
        name = ref.s.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(path, "ep_cache_context is not UTF-8") from None
    if name != binary_file or "/" in name or "\\" in name or name in ("", ".", ".."):
        raise _bad(path, f"ep_cache_context '{name[:80]}' is not the artifact's context binary "
                         f"'{binary_file}'")
    inputs, outputs = io_names(model)
    return {"file": path.name, "binary_file": name, "inputs": inputs, "outputs": outputs,
            "node": nodes[0].name}


def read_encodings(path: Path) -> dict:
    """Check encodings.json; return the count of activation and parameter encodings."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(path, f"not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("version"), str):
        raise _bad(path, "not AIMET encodings (no version)")
    counts = {}
    for section in ("activation_encodings", "param_encodings"):
        entries = doc.get(section)
        if not isinstance(entries, dict):
            raise _bad(path, f"'{section}' is not an object of tensor name -> encodings")
        for name, encs in entries.items():
            if not isinstance(encs, list) or not encs:
                raise _bad(path, f"{section}['{name}'] is not a non-empty list of encodings")
            for i, enc in enumerate(encs):
                _check_encoding(enc, path, f"{section}['{name}'][{i}]")
        counts[section] = len(entries)
    return counts


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_encoding(enc, path: Path, where: str) -> None:
    ok = isinstance(enc, dict) and type(enc.get("bitwidth")) is int and enc["bitwidth"] in _BITWIDTHS and enc.get("dtype") in ("int", "float") and \
        enc.get("is_symmetric") in ("True", "False") and _number(enc.get("scale")) and enc["scale"] > 0 and \
        isinstance(enc.get("offset"), int) and not isinstance(enc["offset"], bool) and \
        _number(enc.get("min")) and _number(enc.get("max")) and enc["min"] <= enc["max"]
    if not ok:
        raise _bad(path, f"{where} is not an encoding (bitwidth 4/8/16/32, dtype, is_symmetric, a "
                         f"positive finite scale, an integer offset, finite min <= max): {str(enc)[:120]}")
