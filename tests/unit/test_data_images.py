"""edgeq.data.images: preprocessing against hand computations with numpy/pillow,
sampling, fingerprints and unreadable files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

import edgeq.data as ed
from edgeq.errors import CalibrationError, UsageError


def _save(path, arr):
    Image.fromarray(np.asarray(arr, np.uint8)).save(path)
    return path


@pytest.fixture
def rgb(tmp_path):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)


def test_normalisation_layout_and_batch(tmp_path, rgb):
    _save(tmp_path / "a.png", rgb)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ds = ed.images(tmp_path, (6, 8), resize=None, mean=mean, std=std)
    x = ds[0]["input"]
    want = ((rgb / 255.0 - mean) / std).transpose(2, 0, 1)[None]
    assert x.shape == (1, 3, 6, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x, want, rtol=1e-6, atol=1e-6)

    nhwc = ed.images(tmp_path, (6, 8), resize=None, layout="NHWC", batch=False, scale=1.0)[0]["input"]
    np.testing.assert_array_equal(nhwc, rgb.astype(np.float32))

    bgr = ed.images(tmp_path, (6, 8), resize=None, color="BGR", scale=1.0, input_name="x")[0]["x"]
    np.testing.assert_array_equal(bgr[0], rgb[:, :, ::-1].transpose(2, 0, 1))


def test_grey_and_palette_images_become_rgb(tmp_path):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    _save(tmp_path / "g.png", grey)
    x = ed.images(tmp_path, (6, 8), resize=None, scale=1.0)[0]["input"]
    for c in range(3):
        np.testing.assert_array_equal(x[0, c], grey)
    one = ed.images(tmp_path, (6, 8), resize=None, scale=1.0, color="L", mean=0, std=1)[0]["input"]
    assert one.shape == (1, 1, 6, 8)


def test_crop_is_shorter_side_resize_then_centre_crop(tmp_path, rgb):
    big = np.kron(rgb, np.ones((10, 10, 1), np.uint8))  # 60 x 80
    _save(tmp_path / "big.png", big)
    got = ed.images(tmp_path, 24, resize_shorter=30, scale=1.0)[0]["input"][0].transpose(1, 2, 0)
    ref = Image.fromarray(big).resize((40, 30), Image.BILINEAR)
    ref = np.asarray(ref)[3:27, 8:32]
    np.testing.assert_array_equal(got, ref.astype(np.float32))


def test_pad_mode_follows_paddleocr(tmp_path):
    img = np.full((20, 30, 3), 255, np.uint8)  # aspect 1.5 -> 48 x ceil(72) = 72 wide
    _save(tmp_path / "line.png", img)
    x = ed.images(tmp_path, (48, 192), resize="pad", mean=[0.5] * 3, std=[0.5] * 3)[0]["input"]
    assert x.shape == (1, 3, 48, 192)
    assert np.all(x[..., :72] == 1.0)   # white -> (1 - 0.5) / 0.5
    assert np.all(x[..., 72:] == 0.0)   # zero padding after normalisation
    wide = np.zeros((10, 100, 3), np.uint8)  # wider than 4:1 -> squeezed to 192
    _save(tmp_path / "line.png", wide)
    x = ed.images(tmp_path, (48, 192), resize="pad", mean=[0.5] * 3, std=[0.5] * 3)[0]["input"]
    assert np.all(x == -1.0)
    assert math.ceil(48 * 30 / 20) == 72


def test_wrong_size_without_resize_names_the_file(tmp_path, rgb):
    _save(tmp_path / "a.png", rgb)
    with pytest.raises(CalibrationError, match=r"a\.png.*8x6.*expected 10x10"):
        ed.images(tmp_path, 10, resize=None)[0]


def test_unreadable_and_empty(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(CalibrationError, match="broken.jpg"):
        list(ed.images(tmp_path, 8))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CalibrationError, match="empty"):
        len(ed.images(empty, 8))
    with pytest.raises(CalibrationError, match="does not exist"):
        len(ed.images(tmp_path / "missing", 8))


def test_bad_options_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="layout"):
        ed.images(tmp_path, 8, layout="CHW")
    with pytest.raises(UsageError, match="resize"):
        ed.images(tmp_path, 8, resize="zoom")
    with pytest.raises(UsageError, match="std"):
        ed.images(tmp_path, 8, std=[0, 1, 1])


def test_sampling_is_deterministic_and_nested(tmp_path):
    for i in range(20):
        _save(tmp_path / f"{i:02d}.png", np.full((4, 4, 3), i))
    def picked(n, seed):
        return [p.name for p in ed.images(tmp_path, 4, resize=None, num_samples=n, seed=seed).items]
    assert picked(5, 0) == picked(5, 0)
    assert picked(5, 0) != picked(5, 1)
    assert set(picked(5, 3)) <= set(picked(12, 3))
    assert len(picked(None, 0)) == 20 and len(picked(50, 0)) == 20


def test_fingerprint_tracks_content_and_preprocessing(tmp_path, rgb):
    _save(tmp_path / "a.png", rgb)
    fp = ed.images(tmp_path, 8).fingerprint()
    assert fp == ed.images(tmp_path, 8).fingerprint()
    assert fp != ed.images(tmp_path, 8, mean=[0.5] * 3).fingerprint()
    assert fp != ed.images(tmp_path, 8, color="BGR").fingerprint()
    _save(tmp_path / "a.png", 255 - rgb)
    assert fp != ed.images(tmp_path, 8).fingerprint()
