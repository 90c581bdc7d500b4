"""Small models and data for the edgeq.build / edgeq.profile tests.

The model is a hand-built ONNX CNN (Conv + Relu, Conv + Relu, GlobalAveragePool,
Flatten, Gemm); calibration and evaluation data are written to disk as real .npy, PNG or
WAV files so that the data-kind detection and the edgeq.data readers are exercised.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds onnx_helpers
from onnx_helpers import helper, make_model, save  # noqa: E402

INPUT = "image"
OUTPUT = "logits"
SHAPE = (1, 3, 16, 16)


def small_cnn(path: Path, seed: int = 0) -> Path:
    """A 16x16 RGB classifier with 10 classes, random but well-conditioned weights."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    inits = {
        "w1": rng.normal(0, 0.4, (8, 3, 3, 3)).astype(f32), "b1": rng.normal(0, 0.1, 8).astype(f32),
        "w2": rng.normal(0, 0.3, (16, 8, 3, 3)).astype(f32), "b2": rng.normal(0, 0.1, 16).astype(f32),
        "fc_w": rng.normal(0, 0.5, (10, 16)).astype(f32), "fc_b": rng.normal(0, 0.1, 10).astype(f32),
    }
    nodes = [
        helper.make_node("Conv", [INPUT, "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], [OUTPUT], name="fc", transB=1),
    ]
    model = make_model(nodes, inputs={INPUT: SHAPE}, outputs={OUTPUT: (1, 10)}, initializers=inits)
    return save(model, path)


def with_erf(path: Path) -> Path:
    """A model with an Erf node, which neither the quantizer's integer ops nor TFLite's
    integer kernels cover."""
    nodes = [helper.make_node("Erf", [INPUT], ["e"], name="the_erf"),
             helper.make_node("Relu", ["e"], [OUTPUT], name="relu")]
    return save(make_model(nodes, inputs={INPUT: (1, 8)}, outputs={OUTPUT: (1, 8)}), path)


def samples(n: int, seed: int = 0, shape=SHAPE) -> list[np.ndarray]:
    """Smooth random images in [-1, 1] (low-frequency patterns, like natural images)."""
    rng = np.random.default_rng(seed)
    out = []
    yy, xx = np.meshgrid(np.linspace(0, 1, shape[2]), np.linspace(0, 1, shape[3]), indexing="ij")
    for _ in range(n):
        chans = [np.sin(rng.uniform(1, 6) * xx + rng.uniform(1, 6) * yy + rng.uniform(0, 6))
                 for _ in range(shape[1])]
        img = np.stack(chans)[None] + rng.normal(0, 0.05, shape)
        out.append(np.clip(img, -1, 1).astype(np.float32))
    return out


def npy_dir(path: Path, n: int = 16, seed: int = 0) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i, x in enumerate(samples(n, seed)):
        np.save(path / f"s{i:03d}.npy", x)
    return path


def png_dir(path: Path, n: int = 12, seed: int = 0, size: int = 20) -> Path:
    from PIL import Image

    path.mkdir(parents=True, exist_ok=True)
    for i, x in enumerate(samples(n, seed, (1, 3, size, size))):
        rgb = ((x[0].transpose(1, 2, 0) + 1) * 127.5).round().astype(np.uint8)
        Image.fromarray(rgb, "RGB").save(path / f"img{i:03d}.png")
    return path


def feeds(n: int, seed: int) -> list[dict[str, np.ndarray]]:
    return [{INPUT: x} for x in samples(n, seed)]


def profile_yaml(path: Path, name: str, **options) -> Path:
    """A target profile YAML for the tflite plugin target with option overrides."""
    import yaml

    path.write_text(yaml.safe_dump({"name": name, "target": "tflite", "runner": "host",
                                    "options": {"threads": 1, **options}}))
    return path


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def tree(root: Path) -> list[str]:
    """Every path under ``root`` (hidden ones included), relative, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob("*"))


def litert_run(model_path: Path, x: np.ndarray) -> np.ndarray:
    """Run a float-I/O .tflite in LiteRT on an NCHW input (transposed to the NHWC the
    artifact takes); returns the first output."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_path), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.ascontiguousarray(x.transpose(0, 2, 3, 1)).astype(np.float32))
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])
