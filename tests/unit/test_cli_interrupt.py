"""Ctrl-C during a command exits with status 130 ("interrupted"), as docs/cli.md says, and
an interrupted build leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from _quant_models import save, small_cnn

from edgeq.cli import main


def test_keyboard_interrupt_inside_a_command_exits_130(monkeypatch, capsys):
    import edgeq.cli.targets as targets_cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr("edgeq.targets.list_targets", interrupted)
    assert targets_cli is not None
    assert main(["targets"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_sigint_mid_build_exits_130_and_leaves_nothing(tmp_path):
    pytest.importorskip("ai_edge_litert.interpreter")
    model = save(small_cnn(), tmp_path / "cnn.onnx")
    calib = tmp_path / "calib"
    calib.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1500):  # enough samples that calibration is still running when SIGINT comes
        np.save(calib / f"{i:03d}.npy", rng.normal(size=(1, 3, 16, 16)).astype(np.float32))
    out = tmp_path / "out"
    env = dict(os.environ, EDGEQ_CACHE=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "edgeq", "build", str(model), "--target", "tflite",
                             "--calib", str(calib), "--calib-samples", "1500", "-o", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not out.exists():
        time.sleep(0.02)  # the output directory is checked (made) before calibration starts
    time.sleep(1.0)  # well into calibrating 1500 samples
    assert proc.poll() is None, "the build ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []
