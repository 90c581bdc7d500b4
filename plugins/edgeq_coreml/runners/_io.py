"""Feeds and outputs between edgeq's names/dtypes and the .mlpackage's (manifest.json's
``inputs``/``outputs``: IR ``name``, Core ML ``coreml_name``, ``shape``, ``dtype``)."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from edgeq.sdk import Artifact, UsageError


def model_path(artifact: Artifact):
    path = artifact.file(artifact.manifest.get("model_file", "model.mlpackage"))
    if not path.is_dir():
        raise UsageError(f"{path}: missing; rebuild the artifact with 'edgeq build'")
    return path


def to_model(manifest: dict, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Feeds keyed by IR input name -> the model's names and dtypes (float32 / int32)."""
    out = {}
    for spec in manifest["inputs"]:
        name = spec["name"]
        if name not in feeds:
            raise UsageError(f"missing input '{name}'; the model's inputs are "
                             f"{[s['name'] for s in manifest['inputs']]}")
        value = np.asarray(feeds[name])
        if tuple(value.shape) != tuple(spec["shape"]):
            raise UsageError(f"input '{name}': got shape {tuple(value.shape)}, the model expects "
                             f"{tuple(spec['shape'])}")
        dtype = np.float32 if spec["dtype"] in ("float32", "image") else np.int32
        out[spec.get("coreml_name", name)] = np.ascontiguousarray(value.astype(dtype))
    return out


def from_model(manifest: dict, outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Model outputs -> keyed by IR output name, float32, in the manifest's shapes."""
    out = {}
    for spec in manifest["outputs"]:
        key = spec.get("coreml_name", spec["name"])
        if key not in outputs:
            raise UsageError(f"the model returned no output '{key}' (it returned {sorted(outputs)})")
        value = outputs[key]
        if isinstance(value, dict):  # classifier: label -> probability, in label order
            labels = manifest.get("coreml", {}).get("labels") or list(value)
            value = [value[label] for label in labels]
        out[spec["name"]] = np.asarray(value, np.float32).reshape(spec["shape"])
    return out
