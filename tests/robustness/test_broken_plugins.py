"""A broken third-party plugin is reported by name and does not stop the other targets:
two installed distributions - one whose module fails to import, one whose
register_targets raises - next to a good one, in real ``python -m edgeq`` processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _quant_models import cnn_feeds, save, small_cnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from plugin_env import subprocess_env, write_dist  # noqa: E402


@pytest.fixture
def env(tmp_path):
    site = tmp_path / "site"
    write_dist(site, "edgeq-broken", {"broken": "edgeq_badplugin.broken_import"})
    write_dist(site, "edgeq-raises", {"raises": "edgeq_badplugin.raising_hook"})
    write_dist(site, "edgeq-testplugin", {"testplugin": "edgeq_testplugin.plugin"})
    return subprocess_env(site, EDGEQ_CACHE=str(tmp_path / "cache"), COLUMNS="200")


def edgeq(env, *argv):
    return subprocess.run([sys.executable, "-m", "edgeq", *argv], capture_output=True, text=True, env=env,
                          timeout=300)


def _named_once(stderr: str, plugin: str, dist: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.startswith("warning:") and f"'{plugin}'" in line]
    return len(lines) == 1 and dist in lines[0]


def test_targets_lists_the_good_plugins_and_names_the_broken_ones(env):
    p = edgeq(env, "targets")
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert _named_once(p.stderr, "broken", "edgeq-broken 0.1")
    assert _named_once(p.stderr, "raises", "edgeq-raises 0.1") and "the target table is corrupt" in p.stderr
    for target in ("tflite", "ane", "qnn-htp-v75", "graphjson"):
        assert f"│ {target} " in p.stdout
    assert "broken plugin broken" in p.stdout and "broken plugin raises" in p.stdout


def test_builds_of_other_targets_still_work(env, tmp_path):
    pytest.importorskip("ai_edge_litert")
    model = save(small_cnn(), tmp_path / "cnn.onnx")
    (tmp_path / "calib").mkdir()
    for i, feed in enumerate(cnn_feeds(4)):
        np.save(tmp_path / "calib" / f"{i}.npy", feed["x"])
    p = edgeq(env, "build", str(model), "--target", "tflite", "--target", "ane", "--calib",
              str(tmp_path / "calib"), "-o", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out" / "tflite" / "model.tflite").is_file()
    assert (tmp_path / "out" / "ane" / "manifest.json").is_file()
    assert _named_once(p.stderr, "broken", "edgeq-broken 0.1")


def test_a_target_of_a_broken_plugin_says_why_it_is_missing(env, tmp_path):
    model = save(small_cnn(), tmp_path / "cnn.onnx")
    p = edgeq(env, "build", str(model), "--target", "corrupt-target", "--calib", str(tmp_path))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    error = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "corrupt-target" in error[0]
    assert "Broken plugins, not loaded" in error[0] and "edgeq_no_such_dependency" in error[0]
