"""The sample apps (sample_apps/): each app's prepare.py (the Python API end to end) and
its CI build step (edgeq build --config edgeq.yaml --profile) run on the zoo's data and
pass their gates; the same config with a gate tightened past what the model reaches
fails the build step with exit status 3. Targets whose SDK is not installed are skipped
by the apps themselves, with the package to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ai_edge_litert.interpreter")

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parents[2] / "sample_apps"
#: evaluation samples of prepare.py (the embedding model is slow in the simulator and on
#: reference kernels: a subset); None = the whole eval split
PREPARE_EVAL = {"vision": None, "speech": None, "embedding": 48}
#: a gate each model cannot reach
IMPOSSIBLE = {"vision": "top1_agreement>=0.999", "speech": "decision_agreement[speech_probs]>=0.9999",
              "embedding": "cosine_min>=0.9999"}


def _env():
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    return env


def _needs_espeak(app):
    import shutil

    if app == "speech" and shutil.which("espeak-ng") is None:
        pytest.skip("the speech data set needs Debian's espeak-ng (apt-get install espeak-ng)")


@pytest.mark.parametrize("app", sorted(PREPARE_EVAL))
def test_prepare_script_runs_and_passes_its_gates(app, tmp_path):
    _needs_espeak(app)
    argv = [sys.executable, str(APPS / app / "prepare.py"), "--out", str(tmp_path / "build")]
    if PREPARE_EVAL[app]:
        argv += ["--eval-samples", str(PREPARE_EVAL[app])]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "(pass)" in proc.stdout and "(FAIL)" not in proc.stdout
    assert (tmp_path / "build" / "tflite" / "model.tflite").is_file()


@pytest.mark.parametrize("app", sorted(PREPARE_EVAL))
def test_build_step_passes_and_a_tightened_gate_fails_it(app, tmp_path):
    _needs_espeak(app)
    config = yaml.safe_load((APPS / app / "edgeq.yaml").read_text())
    argv = ["edgeq", "build", "--config", "edgeq.yaml", "--profile", "-o", str(tmp_path / "build")]
    work = tmp_path / "app"
    work.mkdir()
    (work / "edgeq.yaml").write_text((APPS / app / "edgeq.yaml").read_text())
    proc = subprocess.run(argv, cwd=work, env=_env(), capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "build" / "tflite" / "report.json").read_text())
    assert [g["expr"] for g in report["gates"]] == [g.replace(" ", "") for g in config["profile"]["gates"]]
    assert all(g["passed"] for g in report["gates"])

    config["profile"]["gates"] = [IMPOSSIBLE[app]]
    (work / "edgeq.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(argv, cwd=work, env=_env(), capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert IMPOSSIBLE[app].split(">=")[0] in proc.stderr and "Traceback" not in proc.stderr
