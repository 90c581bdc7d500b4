"""The zoo's data stands in for the user's only when asked: a copy of a zoo model's file
built without --calib is a usage error naming --calib zoo:NAME; zoo:NAME itself
calibrates on the zoo's split and says so; profile without --data says which data it
took."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("ai_edge_litert.interpreter")

from edgeq import zoo  # noqa: E402
from edgeq.cli import main  # noqa: E402

pytestmark = pytest.mark.slow


def test_zoo_data_only_when_asked(tmp_path, capsys):
    copy = tmp_path / "ocr.onnx"
    shutil.copy(zoo.get("ppocr-cls"), copy)
    assert main(["build", str(copy), "--target", "tflite", "-o", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "--calib zoo:ppocr-cls" in err and not (tmp_path / "a" / "tflite").exists()

    assert main(["build", "zoo:ppocr-cls", "--target", "tflite", "--calib-samples", "16",
                 "-o", str(tmp_path / "b")]) == 0
    assert "calibrating on the zoo's calibration split of ppocr-cls" in capsys.readouterr().err

    assert main(["profile", str(tmp_path / "b" / "tflite"), "--runs", "2", "--samples", "8"]) == 0
    assert "no evaluation data given: using 8 samples of the zoo's eval split of ppocr-cls" in \
        capsys.readouterr().err
