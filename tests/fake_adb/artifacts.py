"""Artifacts for device tests: a .tflite from tflite_models plus a manifest.json in the
TFLite target's format (inputs/outputs with name, shape, dtype, quant, layout)."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgeq.contracts import Artifact
from edgeq.types import QDType, QuantParams

from .tflite_models import Mlp


def _spec(name: str, shape, dtype: str, quant) -> dict:
    q = None
    if quant is not None:
        q = QuantParams([quant[0]], [quant[1]], QDType(dtype)).to_json()
    return {"name": name, "shape": list(shape), "dtype": dtype, "quant": q, "layout": None,
            "source_shape": None}


def make_artifact(out_dir: Path, mlp: Mlp, *, model_file: str = "model.tflite") -> Artifact:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mlp.path, out_dir / model_file)
    io = "int8" if mlp.in_quant else "float32"
    manifest = {
        "target": "tflite", "profile": "tflite", "model_file": model_file,
        "inputs": [_spec(n, (1, mlp.w1.shape[1]), io, mlp.in_quant) for n in mlp.input_names],
        "outputs": [_spec(mlp.output_name, (1, mlp.w2.shape[0]), io, mlp.out_quant)],
    }
    art = Artifact(out_dir, manifest)
    art.write_manifest()
    return art
