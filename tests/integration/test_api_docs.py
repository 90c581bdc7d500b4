"""docs/api.md runs as written: every ```python block, in order, in one namespace, in a
fresh working directory (the zoo model and data come from the cache, as for a user)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert.interpreter")

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_api_page_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/api.md block {i + 1}", "exec"), namespace)
    result = namespace["result"]
    assert result.passed and (tmp_path / "build" / "report.html").is_file()
    assert (tmp_path / "build" / "ocr.edgeq").exists() and (tmp_path / "build" / "tflite" / "model.tflite").is_file()
