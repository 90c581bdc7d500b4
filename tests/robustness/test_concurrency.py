"""Concurrent builds: two builds writing the same output directory at once end with one
complete artifact set - every target from the same build, each verifying against its
manifest, never a mix - and two builds sharing one calibration cache never corrupt it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from _corpus import STAGING_GLOB, snapshot
from _quant_models import cnn_feeds, save, small_cnn

from edgeq.contracts import Artifact
from edgeq.staging import Staging

TARGETS = ("tflite", "ane")


def _start(tmp_path, model, out, cache):
    argv = [sys.executable, "-m", "edgeq", "build", str(model), "--calib", str(tmp_path / "calib"), "-o", str(out),
            "--layer-sqnr", "0"]
    for t in TARGETS:
        argv += ["--target", t]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "EDGEQ_CACHE": str(cache)})


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("coremltools")
    tmp = tmp_path_factory.mktemp("concurrency")
    (tmp / "calib").mkdir()
    for i, feed in enumerate(cnn_feeds(6)):
        np.save(tmp / "calib" / f"{i}.npy", feed["x"])
    return tmp, save(small_cnn(seed=0), tmp / "a.onnx"), save(small_cnn(seed=1), tmp / "b.onnx")


def _source_sha(art: Artifact) -> str:
    return art.manifest["source"]["sha256"]


@pytest.mark.parametrize("round_", range(3))
def test_two_builds_into_one_output_directory(models, round_):
    tmp, a, b = models
    out = tmp / f"out{round_}"
    procs = [_start(tmp, m, out, tmp / f"cache-{round_}-{m.stem}") for m in (a, b)]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    for _, err, rc in results:
        assert rc == 0, err
    arts = {t: Artifact.load(out / t) for t in TARGETS}
    for art in arts.values():
        art.verify()  # every file as its manifest says: complete, not torn
    sources = {_source_sha(art) for art in arts.values()}
    assert len(sources) == 1, f"the targets come from different builds: {sources}"
    assert not list(out.glob(STAGING_GLOB)) and not list(out.glob(".*.old-*"))


def _staged(staging: Staging, label: str) -> None:
    for t in TARGETS:
        d = staging.new(t)
        (d / "model.bin").write_text(label * 1000)
        Artifact(d, {"target": t, "label": label}).write_manifest()


def test_simultaneous_commits_take_turns(tmp_path):
    """Two stagings committing into one directory at the same instant (a barrier), 40
    times: both succeed, and the result is always one build's complete set."""
    out = tmp_path / "out"
    out.mkdir()
    for i in range(40):
        stagings = [Staging(out) for _ in range(2)]
        for s, label in zip(stagings, "AB"):
            s.prepare()
            _staged(s, label)
        barrier, errors = threading.Barrier(2), []

        def commit(s):
            barrier.wait()
            try:
                s.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=commit, args=(s,)) for s in stagings]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        labels = {json.loads((out / t / "manifest.json").read_text())["label"] for t in TARGETS}
        assert len(labels) == 1, f"round {i}: a mix of builds {labels}"
        for t in TARGETS:
            Artifact.load(out / t).verify()
        assert sorted(p.name for p in out.iterdir()) == sorted(TARGETS)


def test_two_builds_sharing_a_cold_calibration_cache(models):
    tmp, a, _ = models
    cache = tmp / "shared-cache"
    procs = [_start(tmp, a, tmp / f"shared{i}", cache) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    files = sorted((cache / "calibration").iterdir())
    assert [f.suffix for f in files] == [".npz"], files  # one entry, no temporary left
    with np.load(files[0], allow_pickle=False) as z:
        assert len(z.files) > 10
    third = _start(tmp, a, tmp / "shared2", cache)
    _, err = third.communicate(timeout=600)
    assert third.returncode == 0, err
    report = json.loads((tmp / "shared2" / "tflite" / "build_report.json").read_text())
    assert report["calibration"]["cached"] is True
    snaps = [snapshot(tmp / f"shared{i}" / "tflite") for i in range(3)]
    hashed = [{k: v for k, v in s.items() if k != "build_report.json"} for s in snaps]
    assert hashed[0] == hashed[1] == hashed[2]  # the cache read back gives the same artifact
