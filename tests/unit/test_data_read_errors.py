"""Whatever a reader library raises on a bad data file becomes a CalibrationError naming
the file and what to do: a decompression bomb (pillow), a corrupt .npz (zipfile), a
pickled-object .npy, a truncated WAV."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgeq import data
from edgeq.cli import main
from edgeq.errors import CalibrationError


def test_decompression_bomb_names_the_file(tmp_path, monkeypatch):
    d = tmp_path / "imgs"
    d.mkdir()
    Image.new("RGB", (400, 300)).save(d / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # pillow's guard, as for a 20000x20000 PNG
    with pytest.raises(CalibrationError, match=r"big.png: the image is too large to decode safely.*downscale"):
        data.images(d, size=32)[0]


def test_corrupt_npz_and_object_npy(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CalibrationError, match="bad.npz: cannot read this numpy file"):
        data.npy(tmp_path / "bad.npz")[0]
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CalibrationError, match="obj.npy: cannot read this numpy file.*object arrays are refused"):
        data.npy(tmp_path / "obj.npy")[0]


def test_truncated_wav_is_a_data_error(tmp_path):
    d = tmp_path / "wav"
    d.mkdir()
    (d / "cut.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
    with pytest.raises(CalibrationError, match="cut.wav"):
        data.audio(d, window=160)[0]


def test_reader_errors_reach_the_cli_as_one_line(tmp_path, monkeypatch, capsys):
    from _quant_models import save, small_cnn

    d = tmp_path / "imgs"
    d.mkdir()
    Image.new("RGB", (400, 300)).save(d / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    model = save(small_cnn(), tmp_path / "m.onnx")
    rc = main(["quantize", str(model), "--calib", str(d), "-o", str(tmp_path / "q.edgeq")])
    err = capsys.readouterr().err
    assert rc != 0 and "big.png" in err and "Traceback" not in err and "bug in edgeq" not in err
