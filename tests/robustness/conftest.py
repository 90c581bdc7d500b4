"""Prints the robustness summary line at the end of any run that collected this folder."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent, HERE.parent / "unit"):  # _tally, onnx_helpers, _quant_models
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import _tally  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    lines = _tally.summary()
    if lines:
        terminalreporter.section("robustness")
        for line in lines:
            terminalreporter.write_line(line)
