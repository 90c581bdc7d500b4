"""The sample apps (sample_apps/): each app's prepare.py (the Python API end to end) and
its CI build step (edgeq build --config edgeq.yaml --profile) build every target of the
app's edgeq.yaml from one calibration, on the zoo's data, and pass their gates (each
target its own where its entry has them); the same config with a gate tightened past
what the model reaches — a global gate, and a target's own — fails the build step with
exit status 3, while a target whose own gates replace the tightened global ones passes.
A target whose SDK is not installed is skipped, with the package that would enable it.

Each app runs once per module (a fixture), and the per-target checks read that run."""

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
#: evaluation samples of prepare.py at most (the embedding model is slow in the simulator
#: and on reference kernels: a subset); None = what edgeq.yaml says
PREPARE_EVAL = {"vision": None, "speech": None, "embedding": 48}
#: a gate each model cannot reach, on any number of samples
IMPOSSIBLE = {"vision": "sqnr_db>=60", "speech": "mean_abs_error[speech_probs]<=0.00001",
              "embedding": "cosine_min>=0.99999"}
TARGETS = ("tflite", "ane", "qnn-htp-v75")


def _env():
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    return env


def _needs_espeak(app):
    import shutil

    if app == "speech" and shutil.which("espeak-ng") is None:
        pytest.skip("the speech data set needs Debian's espeak-ng (apt-get install espeak-ng)")


def _missing_sdks() -> dict[str, str]:
    """Target name -> why it cannot be built here (its SDK package is not installed)."""
    from edgeq.targets import list_targets

    return {row.name: f"{row.name}: SDK not installed (pip install {' '.join(row.sdk_packages)})"
            for row in list_targets() if not row.available}


def _config(app) -> dict:
    return yaml.safe_load((APPS / app / "edgeq.yaml").read_text())


def _entry(config, target) -> dict:
    for entry in config["targets"]:
        name = entry if isinstance(entry, str) else entry["name"]
        if name == target:
            return {"name": entry} if isinstance(entry, str) else entry
    raise AssertionError(f"{target} is not in the app's edgeq.yaml")


def _gates(config, target) -> list[str]:
    """The gates that apply to ``target``: its entry's own, else the profile section's."""
    own = _entry(config, target).get("gates")
    return [g.replace(" ", "") for g in (own if own is not None else config["profile"]["gates"])]


def _samples(config, target) -> int | None:
    """The evaluation samples of ``target``: its entry's, else the profile section's."""
    n = _entry(config, target).get("num_samples")
    return n if n is not None else config["profile"].get("num_samples")


def _skip_if_missing(target):
    why = _missing_sdks().get(target)
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """app -> (process, output root) of one run of its prepare.py."""
    runs: dict[str, tuple] = {}

    def run(app):
        if app not in runs:
            out = tmp_path_factory.mktemp(f"prepare-{app}") / "build"
            argv = [sys.executable, str(APPS / app / "prepare.py"), "--out", str(out)]
            if PREPARE_EVAL[app]:
                argv += ["--eval-samples", str(PREPARE_EVAL[app])]
            runs[app] = (subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=2400), out)
        return runs[app]
    return run


@pytest.fixture(scope="module")
def build_step(tmp_path_factory):
    """app -> (process, output root) of ``edgeq build --config edgeq.yaml --profile`` in a
    copy of the app (targets whose SDK is missing left out of the copy)."""
    runs: dict[str, tuple] = {}

    def run(app):
        if app not in runs:
            work = tmp_path_factory.mktemp(f"build-{app}")
            config = _config(app)
            missing = _missing_sdks()
            config["targets"] = [e for e in config["targets"]
                                 if (e if isinstance(e, str) else e["name"]) not in missing]
            (work / "edgeq.yaml").write_text(yaml.safe_dump(config))
            argv = ["edgeq", "build", "--config", "edgeq.yaml", "--profile", "-o", str(work / "build")]
            runs[app] = (subprocess.run(argv, cwd=work, env=_env(), capture_output=True, text=True,
                                        timeout=2400), work / "build")
        return runs[app]
    return run


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("app", sorted(PREPARE_EVAL))
def test_prepare_script_builds_the_target_and_passes_its_gates(app, target, prepared):
    _needs_espeak(app)
    proc, out = prepared(app)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "(FAIL)" not in proc.stdout
    if f"  {target}: skipped, " in proc.stdout:
        pytest.skip(proc.stdout.split(f"  {target}: skipped, ")[1].splitlines()[0])
    report = json.loads((out / target / "report.json").read_text())
    assert [g["expr"] for g in report["gates"]] == _gates(_config(app), target)
    assert report["gates"] and all(g["passed"] for g in report["gates"])
    counts = [n for n in (_samples(_config(app), target), PREPARE_EVAL[app]) if n]
    if counts:
        assert report["sections"][0]["accuracy"]["samples"] == min(counts)
    assert f"  {target}: {out / target}" in proc.stdout


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("app", sorted(PREPARE_EVAL))
def test_build_step_builds_the_target_and_passes_its_gates(app, target, build_step):
    _needs_espeak(app)
    _skip_if_missing(target)
    proc, out = build_step(app)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / target / "report.json").read_text())
    config = _config(app)
    assert [g["expr"] for g in report["gates"]] == _gates(config, target)
    assert report["gates"] and all(g["passed"] for g in report["gates"])
    if _samples(config, target) is not None:
        assert report["sections"][0]["accuracy"]["samples"] == _samples(config, target)
    # one calibration for every target: the same samples, the same fingerprint
    calib = json.loads((out / target / "build_report.json").read_text())["calibration"]
    first = json.loads((out / "tflite" / "build_report.json").read_text())["calibration"]
    assert calib["samples"] == config["calibration"]["num_samples"]
    assert calib["fingerprint"] == first["fingerprint"]


@pytest.mark.parametrize("app", sorted(PREPARE_EVAL))
def test_a_tightened_gate_fails_the_build_step(app, tmp_path):
    """Global gates tightened past the model: tflite fails. The qnn entry's own gate
    tightened: qnn fails. The ane entry's own passable gate replaces the tightened global
    ones: ane passes. On a few samples, so that this costs a build and little profiling."""
    _needs_espeak(app)
    missing = _missing_sdks()
    config = _config(app)
    config["profile"]["gates"] = [IMPOSSIBLE[app]]
    own = {"ane": ["size_mb<=1000"], "qnn-htp-v75": [IMPOSSIBLE[app]]}
    config["targets"] = [{"name": t, "num_samples": 4, "runs": 1, "warmup": 0, **({"gates": own[t]} if t in own else {})}
                         for t in TARGETS if t not in missing]
    (tmp_path / "edgeq.yaml").write_text(yaml.safe_dump(config))
    argv = ["edgeq", "build", "--config", "edgeq.yaml", "--profile", "-o", str(tmp_path / "build")]
    proc = subprocess.run(argv, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    expected = {"tflite": False, "ane": True, "qnn-htp-v75": False}
    for target in (t for t in TARGETS if t not in missing):
        report = json.loads((tmp_path / "build" / target / "report.json").read_text())
        gates = own.get(target, [IMPOSSIBLE[app]])
        assert [g["expr"] for g in report["gates"]] == gates
        assert all(g["passed"] for g in report["gates"]) is expected[target], report["gates"]
        assert (f"{target}:" in proc.stderr) is not expected[target]
    assert IMPOSSIBLE[app].split("<=")[0].split(">=")[0] in proc.stderr
    for target in missing:
        if target in TARGETS:
            pytest.skip(f"checked without {missing[target]}")
