"""Memory bounds: calibrating on 10,000 samples does not grow the peak memory of a build
over calibrating on 200 (edgeq streams the data set one sample at a time and keeps
fixed-size statistics: histograms, channel moments, GPTQ Hessians). Each build runs in a
fresh process whose peak resident set (VmHWM) is read at its end; benchmarks/memory.py
gives the numbers for every zoo model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "memory.py"


def _peak(n: int) -> dict:
    done = subprocess.run([sys.executable, str(BENCH), "--child", "build", "ppocr-cls", str(n), "tflite"],
                          capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_ten_thousand_calibration_samples_do_not_grow_the_peak():
    small, large = _peak(200), _peak(10_000)
    grown = (large["peak_mb"] - large["before_mb"]) - (small["peak_mb"] - small["before_mb"])
    # a 10,000-sample data set held in memory would add 10,000 x 110 kB = 1.1 GB
    assert grown < 25, f"build memory grew by {grown:.1f} MB from 200 to 10,000 samples: {small} vs {large}"
