"""edgeq.data.resolve: data kinds detected from file content, options fitted to the model,
zoo references, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeq.data import resolve as datasource
from edgeq.data.wav import write_wav
from edgeq.errors import CalibrationError, UsageError
from edgeq.ir.graph import Graph, Tensor

from _build_helpers import npy_dir, png_dir  # noqa: E402


def graph(inputs: dict, metadata: dict | None = None) -> Graph:
    g = Graph("g")
    for name, shape in inputs.items():
        g.tensors[name] = Tensor(name, np.dtype(np.float32), tuple(shape))
        g.inputs.append(name)
    g.metadata.update(metadata or {})
    return g


def test_kinds_detected_from_content_not_names(tmp_path):
    png = png_dir(tmp_path / "png", 2)
    (png / "img000.png").rename(png / "img000.jpg")  # a PNG named .jpg is still an image
    assert datasource.sniff_kind(png) == "images"
    assert datasource.sniff_kind(npy_dir(tmp_path / "npy", 2)) == "npy"
    wav = tmp_path / "wav"
    wav.mkdir()
    write_wav(wav / "a.wav", np.zeros(1600, np.float32), 16000)
    assert datasource.sniff_kind(wav) == "audio"
    np.savez(tmp_path / "one.npz", image=np.zeros(3, np.float32))
    assert datasource.sniff_kind(tmp_path / "one.npz") == "npy"


def test_mixed_empty_and_missing_directories(tmp_path):
    mixed = npy_dir(tmp_path / "mixed", 1)
    png_dir(mixed, 1)
    with pytest.raises(UsageError, match=r"mixes data kinds \(1 images, 1 npy\)"):
        datasource.sniff_kind(mixed)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    with pytest.raises(CalibrationError, match="found no image, WAV or numpy files"):
        datasource.sniff_kind(tmp_path / "empty")
    with pytest.raises(CalibrationError, match="no such file"):
        datasource.sniff_kind(tmp_path / "absent")


def test_image_options_follow_the_model_input(tmp_path):
    pngs = png_dir(tmp_path / "p", 3, size=40)
    ds = datasource.resolve(pngs, graph({"pixels": (1, 3, 24, 32)}))
    feed = ds[0]
    assert list(feed) == ["pixels"] and feed["pixels"].shape == (1, 3, 24, 32)
    nhwc = datasource.resolve(pngs, graph({"x": (1, 24, 32, 1)}))
    assert nhwc[0]["x"].shape == (1, 24, 32, 1)
    # preprocessing recorded in the model wins over the defaults; caller options win over both
    pre = json.dumps({"kind": "images", "mean": [0.5] * 3, "std": [0.5] * 3, "scale": 1 / 255})
    g = graph({"pixels": (1, 3, 24, 32)}, {"edgeq.preprocessing": pre})
    plain = datasource.resolve(pngs, graph({"pixels": (1, 3, 24, 32)}))[0]["pixels"]
    normed = datasource.resolve(pngs, g)[0]["pixels"]
    np.testing.assert_allclose(normed, (plain - 0.5) / 0.5, atol=1e-6)
    scaled = datasource.resolve(pngs, g, options={"std": [1.0, 1.0, 1.0]})[0]["pixels"]
    np.testing.assert_allclose(scaled, plain - 0.5, atol=1e-6)


def test_audio_fills_other_inputs_with_zeros(tmp_path):
    wav = tmp_path / "wav"
    wav.mkdir()
    t = np.arange(3200) / 16000
    write_wav(wav / "tone.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    ds = datasource.resolve(wav, graph({"audio": (1, 800), "state": (2, 1, 16)}))
    assert len(ds) == 4  # 3200 samples / 800 per window
    feed = ds[1]
    assert feed["audio"].shape == (1, 800) and not feed["state"].any()
    np.testing.assert_allclose(feed["audio"][0, :5], 0.5 * np.sin(2 * np.pi * 440 * t[800:805]), atol=1e-4)


def test_samples_and_iterables(tmp_path):
    ds = datasource.resolve(npy_dir(tmp_path / "n", 10), graph({"image": (1, 3, 16, 16)}),
                            num_samples=4, seed=1)
    assert len(ds) == 4
    feeds = [{"image": np.full((1, 3, 16, 16), i, np.float32)} for i in range(3)]
    assert len(datasource.resolve(feeds, graph({"image": (1, 3, 16, 16)}))) == 3
    with pytest.raises(UsageError, match="expected a directory, zoo:NAME"):
        datasource.resolve(42, graph({}))


def test_zoo_references():
    assert datasource.parse_zoo("zoo:ppocr-cls", "calib") == ("ppocr-cls", "calib")
    assert datasource.parse_zoo("zoo:ppocr-cls:eval", "calib") == ("ppocr-cls", "eval")
    assert datasource.parse_zoo("zoo:", "eval", graph({}, {"edgeq.zoo.name": "minilm-l6"})) == \
        ("minilm-l6", "eval")
    assert datasource.parse_zoo("data/zoo", "calib") is None
    with pytest.raises(UsageError, match="split 'test'"):
        datasource.parse_zoo("zoo:ppocr-cls:test", "calib")
    with pytest.raises(UsageError, match="zoo:NAME"):
        datasource.parse_zoo("zoo:", "calib", graph({}))
