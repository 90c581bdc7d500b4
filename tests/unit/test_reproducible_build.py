"""The same inputs give the same artifact bytes: two builds of one model, in two
processes with different PYTHONHASHSEED, with cold and warm calibration caches, write
byte-identical files — manifest.json included (build_report.json, the record of how the
build went, holds the timings and is not hashed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _quant_models import cnn_feeds, save, small_cnn

from edgeq.contracts import UNHASHED_FILES

pytest.importorskip("ai_edge_litert.interpreter")


def _build(tmp_path, name, seed, cache):
    out = tmp_path / name
    env = dict(os.environ, PYTHONHASHSEED=str(seed), EDGEQ_CACHE=str(tmp_path / cache))
    proc = subprocess.run([sys.executable, "-m", "edgeq", "build", str(tmp_path / "cnn.onnx"), "--target",
                           "tflite", "--calib", str(tmp_path / "calib"), "-o", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    art = out / "tflite"
    return {p.relative_to(art).as_posix(): p.read_bytes() for p in sorted(art.rglob("*")) if p.is_file()}


def test_same_inputs_same_bytes(tmp_path):
    save(small_cnn(), tmp_path / "cnn.onnx")
    (tmp_path / "calib").mkdir()
    for i, feed in enumerate(cnn_feeds(8)):
        np.save(tmp_path / "calib" / f"{i}.npy", feed["x"])
    a = _build(tmp_path, "a", 1, "cache-a")
    b = _build(tmp_path, "b", 12345, "cache-b")
    warm = _build(tmp_path, "c", 7, "cache-a")  # statistics from a's cache this time
    hashed = sorted(set(a) - UNHASHED_FILES)
    assert "manifest.json" in hashed and "model.tflite" in hashed
    for other in (b, warm):
        assert sorted(set(other) - UNHASHED_FILES) == hashed
        for name in hashed:
            assert other[name] == a[name], f"{name} differs between two builds of the same inputs"
    manifest = json.loads(a["manifest.json"])
    assert "build_report.json" not in manifest["files"] and "created_utc" not in json.dumps(manifest)
    assert json.loads(a["build_report.json"])["timings_s"]  # the timings are still recorded
