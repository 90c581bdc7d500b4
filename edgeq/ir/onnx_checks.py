"""Structural checks of an ONNX model that run before onnx's own checker, so the errors
name the node, tensor or file at fault and say what to do (the checker's messages name
neither the node of an unknown op nor the file of short external data).

Each raises ModelLoadError / UnsupportedOpError with the model's ``source`` first.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from edgeq.errors import ModelLoadError, UnsupportedOpError

#: the domains whose ops onnx.defs knows (ai.onnx.ml has its own opset)
_STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")


def check_structure(proto: onnx.ModelProto, source: str) -> None:
    """Graph-level problems onnx's checker does not report or reports unclearly:
    no nodes, a graph output listed twice, ops that no ONNX opset defines."""
    graph = proto.graph
    if not graph.node:
        raise ModelLoadError(f"{source}: the ONNX graph has no nodes (its outputs are its inputs); "
                             "there is nothing to quantize - check that the export kept the model")
    seen: set[str] = set()
    for out in graph.output:
        if out.name in seen:
            raise ModelLoadError(f"{source}: graph output '{out.name}' is listed twice; each output "
                                 "must be named once - fix the export's output names")
        seen.add(out.name)
    # fields that are not valid UTF-8 come back as bytes: the checker reports those
    unknown = [n for n in graph.node if isinstance(n.op_type, str) and isinstance(n.domain, str)
               and n.domain in _STANDARD_DOMAINS
               and not onnx.defs.has(n.op_type, n.domain if n.domain != "ai.onnx" else "")]
    if unknown:
        names = "; ".join(f"node '{_label(n)}' has op type '{n.op_type}'" for n in unknown[:5])
        raise UnsupportedOpError(
            f"{source}: {names}, which no ONNX opset defines (a typo, or a custom op missing its "
            f"domain); export the model with standard ONNX ops", op_type=unknown[0].op_type,
            nodes=[n.name for n in unknown])


def _label(node: onnx.NodeProto) -> str:
    return node.name or (node.output[0] if node.output else f"({node.op_type} without a name)")


def check_external_data(proto: onnx.ModelProto, source: str, folder: Path) -> None:
    """Every initializer kept in an external file: the file is inside the model's folder,
    exists, and holds ``offset + length`` bytes. Run before loading it, so a model can
    never make edgeq read a file outside its folder."""
    root = folder.resolve()
    for init in proto.graph.initializer:
        if init.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in init.external_data}
        location = info.get("location", "")
        where = f"initializer '{init.name}' keeps its data in the external file {location!r}"
        if not location or os.path.isabs(location):
            raise ModelLoadError(f"{source}: {where}, which is not a path relative to the model; "
                                 "re-save the model with its data files next to it")
        path = (root / location).resolve()
        if root not in path.parents:
            raise ModelLoadError(f"{source}: {where}, which is outside the model's folder {root}; "
                                 "edgeq reads external data only from the model's own folder")
        if not path.is_file():
            raise ModelLoadError(f"{source}: {where}, which does not exist at {path}; copy the data "
                                 "file next to the model under that name")
        try:
            offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        except ValueError:
            raise ModelLoadError(f"{source}: {where} with a non-numeric offset/length "
                                 f"({info.get('offset')!r}/{info.get('length')!r}); re-save the model") from None
        size = path.stat().st_size
        if offset < 0 or offset > size or (length >= 0 and offset + length > size):
            raise ModelLoadError(f"{source}: {where}, which holds {size} bytes, but the model reads "
                                 f"{length if length >= 0 else 'the rest'} bytes from offset {offset}; "
                                 "the data file is truncated or belongs to another model")
