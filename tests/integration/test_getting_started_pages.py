"""docs/getting-started/python-api.md runs as written in an empty directory: its yaml
block saved as edgeq.yaml, as the page says, then its python block; every installed
target of the page's config is built from one calibration, profiled and gated (the
qnn target by its own gates)."""

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

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-started" / "python-api.md"


def test_python_api_page_runs_as_written(tmp_path):
    from edgeq.targets import list_targets

    blocks = re.findall(r"```(yaml|python)\n(.*?)```", DOC.read_text(), re.S)
    assert [k for k, _ in blocks] == ["yaml", "python"]
    (tmp_path / "edgeq.yaml").write_text(blocks[0][1])
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    proc = subprocess.run([sys.executable, "-c", blocks[1][1]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed = {t.name for t in list_targets() if t.available}
    built = [t for t in ("tflite", "ane", "qnn-htp-v75") if t in installed]
    assert "tflite" in built
    for target in built:
        report = json.loads((tmp_path / "build" / target / "report.json").read_text())
        assert report["gates"] and all(g["passed"] for g in report["gates"]), target
        assert report["sections"][0]["accuracy"]["samples"] == 24
        assert f"{target}: " in proc.stdout
    if "qnn-htp-v75" in built:  # its own gates replaced the profile section's
        report = json.loads((tmp_path / "build" / "qnn-htp-v75" / "report.json").read_text())
        assert [g["expr"] for g in report["gates"]] == ["top1_agreement>=0.95", "sqnr_db>=30"]
