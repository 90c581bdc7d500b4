"""LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate" line does not reach the
terminal of edgeq profile unless -v asks for edgeq's own INFO logging."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq

pytest.importorskip("ai_edge_litert.interpreter")


def test_delegate_banner_only_with_verbose(tmp_path):
    onnx = save(small_cnn(), tmp_path / "cnn.onnx")
    art = edgeq.build(str(onnx), targets=["tflite"], calibration=cnn_feeds(4), output_dir=tmp_path / "b",
                      progress=False, cache_dir=str(tmp_path / "c"), layer_sqnr_samples=0)["tflite"]
    base = [sys.executable, "-m", "edgeq"]
    args = ["profile", str(art.path), "--runs", "2", "--warmup", "0"]
    quiet = subprocess.run(base + args, capture_output=True, text=True, timeout=300)
    loud = subprocess.run(base + ["-v"] + args, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and loud.returncode == 0, quiet.stderr + loud.stderr
    assert "XNNPACK delegate" not in quiet.stderr
    assert "XNNPACK delegate" in loud.stderr
