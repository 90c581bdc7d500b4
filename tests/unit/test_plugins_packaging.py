"""The wheel: built-in target profiles ship as package data, the plugins as top-level
packages, and the built-in plugin is declared in the 'edgeq' entry-point group."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the sources (the build must not write into the repo)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("edgeq", "plugins", "targets"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    (whl,) = out.glob("edgeq-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for profile in (REPO / "targets").glob("*.yaml"):
        assert f"edgeq/_targets/{profile.name}" in names
    for plugin in (REPO / "plugins").iterdir():
        if (plugin / "__init__.py").exists():
            assert f"{plugin.name}/__init__.py" in names and f"{plugin.name}/plugin.py" in names
    # tests (the repo's and the plugins' own) stay out of the wheel
    assert not any(n.startswith(("tests/", "targets/")) or "/tests/" in n for n in names)
    eps = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(eps).decode()
    import configparser

    eps_cfg = configparser.ConfigParser()
    eps_cfg.read_string(text)
    # every built-in plugin registers through the edgeq entry-point group
    expected = {"tflite": "edgeq_tflite.plugin", "coreml": "edgeq_coreml.plugin",
                "qnn": "edgeq_qnn.plugin"}
    assert expected.items() <= dict(eps_cfg["edgeq"]).items(), text
    assert "[console_scripts]\nedgeq = edgeq.cli:run" in text


def test_installed_wheel_resolves_builtin_target_without_a_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    code = ("import json, edgeq, edgeq.targets as t; "
            "print(json.dumps({'file': edgeq.__file__, "
            "'profiles': sorted(t.builtin_profiles()), "
            "'tflite': t.get_target('tflite').plugin}))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    data = json.loads(p.stdout)
    assert data["file"].startswith(str(site))  # the installed copy, not the checkout
    assert data["profiles"] == sorted(f.stem for f in (REPO / "targets").glob("*.yaml"))
    assert data["tflite"] == "tflite"
