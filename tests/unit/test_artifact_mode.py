"""Artifact directories get the mode a new directory gets under the umask (not the 0700
of a staging directory made by mkdtemp), so another user or a CI step can read them."""

from __future__ import annotations

import os
import stat

import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq

pytest.importorskip("ai_edge_litert.interpreter")


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_artifact_directory_mode_follows_the_umask(tmp_path, umask):
    onnx = save(small_cnn(), tmp_path / "cnn.onnx")
    old = os.umask(umask)
    try:
        arts = edgeq.build(str(onnx), targets=["tflite"], calibration=cnn_feeds(4), output_dir=tmp_path / "b",
                           progress=False, cache_dir=str(tmp_path / "c"), layer_sqnr_samples=0)
    finally:
        os.umask(old)
    path = arts["tflite"].path
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((path / "model.tflite").stat().st_mode) == 0o666 & ~umask
