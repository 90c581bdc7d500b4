"""edgeq.profile returns a ProfileResult: the report the CLI writes, as an object with
gate results, to_json() equal to the report.json written, to_html(), and on a failed
gate the same object on the GateFailure."""

from __future__ import annotations

import json

import pytest
from _quant_models import cnn_feeds, save, small_cnn

import edgeq
from edgeq.errors import GateFailure
from edgeq.profile.result import ProfileResult

pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prof")
    onnx = save(small_cnn(), tmp / "cnn.onnx")
    arts = edgeq.build(str(onnx), targets=["tflite"], calibration=cnn_feeds(8), output_dir=tmp / "build",
                       progress=False, cache_dir=str(tmp / "cache"), layer_sqnr_samples=0)
    return arts["tflite"].path


def test_result_is_the_written_report(artifact, tmp_path):
    rep = edgeq.profile(artifact, data=cnn_feeds(4, seed=9), runs=3, warmup=1, report_dir=tmp_path,
                        gates=["sqnr_db>=5"], progress=False)
    assert isinstance(rep, ProfileResult) and rep.passed
    assert [g.passed for g in rep.gates] == [True] and rep.gates[0].value == rep.accuracy["sqnr_db"]
    written = json.loads((tmp_path / "report.json").read_text())
    mine = json.loads(rep.to_json())
    for doc in (written, mine):
        doc.pop("created_utc", None)
    assert mine == written
    page = rep.to_html(tmp_path / "page.html")
    assert page.read_text().lstrip().lower().startswith("<!doctype html") and "sqnr" in page.read_text().lower()
    assert "| " in rep.to_markdown()
    assert set(rep.paths) == {"json", "md", "html"}


def test_failed_gate_carries_the_result(artifact, tmp_path):
    with pytest.raises(GateFailure) as info:
        edgeq.profile(artifact, data=cnn_feeds(2, seed=9), runs=2, warmup=0, report_dir=tmp_path,
                      gates=["sqnr_db>=1000"], progress=False)
    rep = info.value.report
    assert isinstance(rep, ProfileResult) and not rep.passed
    assert json.loads(rep.to_json())["gates"][0]["passed"] is False
