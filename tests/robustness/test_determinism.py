"""Same inputs, same bytes: the small CNN built for every installed target in two
processes with different PYTHONHASHSEEDs and separate calibration caches (so the
statistics are collected twice) gives byte-identical artifacts - every file the
manifest hashes, and manifest.json itself."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from _corpus import snapshot
from _quant_models import cnn_feeds, save, small_cnn

from edgeq.contracts import UNHASHED_FILES
from edgeq.targets import list_targets

TARGETS = [r.name for r in list_targets() if r.available and r.sdk_installed and r.source == "builtin"]


def _build(tmp_path, run: int, hash_seed: str):
    out = tmp_path / f"out{run}"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "EDGEQ_CACHE": str(tmp_path / f"cache{run}")}
    argv = [sys.executable, "-m", "edgeq", "build", str(tmp_path / "cnn.onnx"), "--calib", str(tmp_path / "calib"),
            "-o", str(out)]
    for t in TARGETS:
        argv += ["--target", t]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("determinism")
    save(small_cnn(), tmp / "cnn.onnx")
    (tmp / "calib").mkdir()
    for i, feed in enumerate(cnn_feeds(6)):
        np.save(tmp / "calib" / f"{i}.npy", feed["x"])
    return _build(tmp, 1, "1"), _build(tmp, 2, "424242")


def test_every_builtin_target_is_checked():
    # the three plugins' targets, when their SDKs are installed (they are in make setup)
    assert {"tflite", "ane", "qnn-htp-v75"} <= set(TARGETS), TARGETS


@pytest.mark.parametrize("target", TARGETS)
def test_two_processes_give_identical_artifacts(two_builds, target):
    first, second = (snapshot(out / target) for out in two_builds)
    hashed = lambda snap: {k: v for k, v in snap.items() if k.split("/")[0] not in UNHASHED_FILES}  # noqa: E731
    a, b = hashed(first), hashed(second)
    assert "manifest.json" in a and len(a) >= 2  # the manifest and at least the model
    differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    assert not differ, f"{target}: {differ} differ between the two builds"
