"""Fixtures of the QNN plugin tests: onnxruntime-qnn is required (the HTP emulator)."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime_qnn")
