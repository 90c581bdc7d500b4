"""docs/getting-started.md runs top to bottom as written in an empty directory: every
``sh`` block through bash (the install block excepted: edgeq is installed already), the
``yaml`` block saved as edgeq.yaml as the page says, the ``python`` block executed; the
build's gates pass."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert.interpreter")

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"


def test_getting_started_runs_as_written(tmp_path):
    blocks = re.findall(r"```(sh|yaml|python)\n(.*?)```", DOC.read_text(), re.S)
    assert [k for k, _ in blocks].count("yaml") == 1
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    ran = 0
    for kind, text in blocks:
        if kind == "sh" and "make setup" in text:
            continue  # installing: done by make test itself
        if kind == "yaml":
            (tmp_path / "edgeq.yaml").write_text(text)
            continue
        if kind == "python":
            proc = subprocess.run([sys.executable, "-c", text], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600)
        else:
            proc = subprocess.run(["bash", "-e", "-c", text], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"block failed:\n{text}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr
        ran += 1
    assert ran >= 4
    report = json.loads((tmp_path / "build" / "tflite" / "report.json").read_text())
    assert report["gates"] and all(g["passed"] for g in report["gates"])
    acc = report["sections"][0]["accuracy"]
    assert acc["samples"] == 100 and acc["top1_agreement"] >= 0.97
