"""The bad-input corpus (tests/robustness/cases_*.py), one test per case: each bad
model, data set, configuration, output path or device fault must give the documented
exit status with a message naming the culprit, print no traceback, finish within its
time bound, and leave the output as it was - the previous complete artifact or nothing.
The suite's summary line counts the outcomes (conftest.py)."""

from __future__ import annotations

import os
from collections import Counter

import pytest

import _tally
from _corpus import GoodBuild, Workspace, run_case
from cases_config import CASES as CONFIG
from cases_data import CASES as DATA
from cases_devices import CASES as DEVICES
from cases_models import CASES as MODELS
from cases_outputs import CASES as OUTPUTS

CASES = MODELS + DATA + CONFIG + OUTPUTS + DEVICES


@pytest.fixture(scope="session")
def good_build(tmp_path_factory):
    pytest.importorskip("ai_edge_litert.interpreter")
    return GoodBuild.make(tmp_path_factory.mktemp("corpus-good"))


def test_the_corpus_is_large_and_covers_every_kind():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert len(CASES) >= 80
    kinds = Counter(c.kind for c in CASES)
    assert set(kinds) == {"model", "data", "config", "output", "device"}
    assert min(kinds.values()) >= 8, kinds


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, good_build, tmp_path, capsys, monkeypatch):
    ws = Workspace(tmp_path, good_build)
    monkeypatch.setenv("EDGEQ_CACHE", str(ws.cache))
    monkeypatch.delenv("ANDROID_SERIAL", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "ANDROID_SERIAL"}
    result = run_case(case, ws, capsys, env)
    _tally.record("corpus", result.outcome)
    assert result.outcome == "clear_error", f"{result.outcome}: {result.problem}\n--- output ---\n{result.err}"
