"""Save and load quantized models without pickle.

Format (``FORMAT_VERSION`` 1): a zip file (``model.edgeq``) or a directory, holding

* ``model.json``: ``{"format": "edgeq.quantized", "version": 1, "graphs": {key: graph},
  "meta": {...}}``; a graph is its name, inputs, outputs, opset, metadata, tensors
  (name, dtype, shape, ``quant`` as :meth:`QuantParams.to_json`, ``const`` = key of its
  data in the npz) and nodes (name, op_type, inputs, outputs, domain, attrs);
* ``constants.npz``: every constant array, loaded with ``allow_pickle=False``.

Attribute values are JSON values; numpy arrays go to the npz (``{"__ndarray__": key}``),
non-finite floats are ``{"__float__": "inf"|"-inf"|"nan"}``, bytes are base64
(``{"__bytes__": ...}``). Anything else is rejected when saving, so a saved file never
needs code execution to load.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from edgeq.errors import ModelLoadError, QuantizationError
from edgeq.ir.graph import Graph, Node, Tensor
from edgeq.staging import directory_mode
from edgeq.types import QuantParams

FORMAT = "edgeq.quantized"
FORMAT_VERSION = 1
JSON_NAME = "model.json"
NPZ_NAME = "constants.npz"


class _Arrays:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def add(self, arr: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        arr = np.asarray(arr)
        if arr.dtype == object:
            raise QuantizationError("cannot save an object array (only numeric arrays are stored)")
        self.arrays[key] = arr
        return key


def _enc(value, arrays: _Arrays, where: str):
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return _enc(value.item(), arrays, where)
    if isinstance(value, np.ndarray):
        return {"__ndarray__": arrays.add(value)}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [_enc(v, arrays, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _enc(v, arrays, where) for k, v in value.items()}}
    raise QuantizationError(f"{where}: cannot save a value of type {type(value).__name__}")


def _dec(value, arrays):
    if isinstance(value, list):
        return [_dec(v, arrays) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return arrays[value["__ndarray__"]]
        if "__float__" in value:
            return float(value["__float__"])
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__dict__" in value:
            return {k: _dec(v, arrays) for k, v in value["__dict__"].items()}
    return value


def graph_to_json(graph: Graph, arrays: _Arrays) -> dict:
    tensors = []
    for t in graph.tensors.values():
        entry = {"name": t.name, "dtype": t.dtype.name, "shape": list(t.shape)}
        if t.quant is not None:
            entry["quant"] = t.quant.to_json()
        if t.data is not None:
            entry["const"] = arrays.add(t.data)
        tensors.append(entry)
    nodes = [{"name": n.name, "op_type": n.op_type, "inputs": list(n.inputs), "outputs": list(n.outputs),
              "domain": n.domain,
              "attrs": {k: _enc(v, arrays, f"node '{n.name}' attribute '{k}'") for k, v in n.attrs.items()}}
             for n in graph.nodes]
    return {"name": graph.name, "inputs": list(graph.inputs), "outputs": list(graph.outputs),
            "opset": graph.opset, "metadata": dict(graph.metadata), "tensors": tensors, "nodes": nodes}


def graph_from_json(data: dict, arrays) -> Graph:
    g = Graph(data["name"], {}, [], list(data["inputs"]), list(data["outputs"]), int(data["opset"]),
              dict(data.get("metadata", {})))
    for e in data["tensors"]:
        const = arrays[e["const"]] if "const" in e else None
        quant = QuantParams.from_json(e["quant"]) if "quant" in e else None
        g.tensors[e["name"]] = Tensor(e["name"], np.dtype(e["dtype"]), tuple(e["shape"]), const, quant)
    for e in data["nodes"]:
        attrs = {k: _dec(v, arrays) for k, v in e.get("attrs", {}).items()}
        g.nodes.append(Node(e["name"], e["op_type"], list(e["inputs"]), list(e["outputs"]), attrs,
                            e.get("domain", "")))
    return g


def _save_directory(path: Path, text: str, arrays: bytes) -> None:
    """The directory form, all or nothing: written into a sibling temporary directory that
    replaces ``path``. An existing ``path`` must be empty or a previous quantized model;
    a directory of other files is refused (QuantizationError), never written into."""
    if path.is_dir():
        foreign = sorted(p.name for p in path.iterdir() if p.name not in (JSON_NAME, NPZ_NAME))
        if foreign:
            raise QuantizationError(f"{path}: is a directory holding other files ({', '.join(foreign[:3])}"
                                    f"{' …' if len(foreign) > 3 else ''}), not a saved quantized model; "
                                    "choose another output path (e.g. model.edgeq)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        (tmp / JSON_NAME).write_text(text)
        (tmp / NPZ_NAME).write_bytes(arrays)
        tmp.chmod(directory_mode())  # mkdtemp's is 0700
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def save(path, graphs: dict[str, Graph], meta: dict) -> Path:
    """Write ``graphs`` and JSON-able ``meta`` to ``path`` (zip, or a directory if ``path``
    is an existing directory or has no suffix). Returns the path written."""
    path = Path(path)
    arrays = _Arrays()
    doc = {"format": FORMAT, "version": FORMAT_VERSION,
           "graphs": {k: graph_to_json(g, arrays) for k, g in graphs.items()},
           "meta": _enc(meta, arrays, "model metadata")}
    text = json.dumps(doc, indent=1, allow_nan=False)
    buf = io.BytesIO()
    np.savez(buf, **arrays.arrays)
    if path.is_dir() or path.suffix == "":
        _save_directory(path, text, buf.getvalue())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(JSON_NAME, text)
                zf.writestr(NPZ_NAME, buf.getvalue())
            tmp.replace(path)  # never leave a half-written model behind
        finally:
            tmp.unlink(missing_ok=True)
    return path


def load(path) -> tuple[dict[str, Graph], dict]:
    """Read what :func:`save` wrote; raises ModelLoadError naming the file on any problem."""
    path = Path(path)
    try:
        if path.is_dir():
            text = (path / JSON_NAME).read_text()
            npz = (path / NPZ_NAME).read_bytes()
        else:
            with zipfile.ZipFile(path) as zf:
                text = zf.read(JSON_NAME).decode("utf-8")
                npz = zf.read(NPZ_NAME)
    except FileNotFoundError as exc:
        raise ModelLoadError(f"quantized model '{path}' not found ({exc.filename}); save one with "
                             f"QuantizedModel.save or 'edgeq quantize ... -o {path.name}'") from exc
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError) as exc:
        raise ModelLoadError(f"'{path}' is not an edgeq quantized model (expected a zip or directory "
                             f"with {JSON_NAME} and {NPZ_NAME}): {exc}") from exc
    try:
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ModelLoadError(f"'{path}': {JSON_NAME} is not an edgeq quantized model "
                                 f"(format {doc.get('format')!r})")
        if int(doc.get("version", 0)) > FORMAT_VERSION:
            raise ModelLoadError(f"'{path}' was written by a newer edgeq (format version "
                                 f"{doc['version']} > {FORMAT_VERSION}); upgrade edgeq")
        with np.load(io.BytesIO(npz), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        graphs = {k: graph_from_json(g, arrays) for k, g in doc["graphs"].items()}
        meta = _dec(doc.get("meta", {}), arrays)
    except ModelLoadError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"'{path}' is corrupt: {type(exc).__name__}: {exc}") from exc
    return graphs, meta
