"""Gates: parsing, evaluation per device, JUnit XML, GateFailure after the report is written."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from edgeq.errors import GateFailure, UsageError
from edgeq.profile.gates import METRICS, Gate, evaluate, parse_gates, raise_for_failures, write_junit
from edgeq.profile.publish import publish
from edgeq.profile.report import attach_baseline, combine, load_report, report_to_dict
from edgeq.contracts import LatencyStats

from test_report import make_report  # p50 11 ms, p90 22.8 ms, peak 12.5 MB, 3.4 MB


@pytest.mark.parametrize("text,metric,op,value", [
    ("latency_p50_ms<=12", "latency_p50_ms", "<=", 12.0),
    (" top1_agreement >= 0.98 ", "top1_agreement", ">=", 0.98),
    ("sqnr_db>20", "sqnr_db", ">", 20.0),
    ("size_mb<4.5e0", "size_mb", "<", 4.5),
    ("peak_memory_mb==12.5", "peak_memory_mb", "==", 12.5),
    ("cosine_min>=-1", "cosine_min", ">=", -1.0),
])
def test_parse(text, metric, op, value):
    g = Gate.parse(text)
    assert (g.metric, g.op, g.threshold) == (metric, op, value)


@pytest.mark.parametrize("text", ["latency_p50_ms", "latency_p50_ms=<12", "latency_p50_ms<=twelve",
                                  "<=12", "latency_p50_ms<=12ms", "latency_p50_ms<=1<=2"])
def test_malformed(text):
    with pytest.raises(UsageError, match="invalid gate"):
        Gate.parse(text)


def test_unknown_metric_lists_known_ones():
    with pytest.raises(UsageError, match="unknown gate metric 'latency_p99_ms'.*known metrics: .*"
                                         "latency_p50_ms.*top1_agreement"):
        Gate.parse("latency_p99_ms<=3")
    assert {"latency_p50_ms", "latency_p90_ms", "top1_agreement", "sqnr_db", "cosine_mean", "size_mb",
            "peak_memory_mb"} <= set(METRICS)


def test_config_forms():
    gates = parse_gates(["sqnr_db>=20", {"latency_p50_ms": "<=12"}, {"top1_agreement": ">= 0.9"}])
    assert [g.expr for g in gates] == ["sqnr_db>=20", "latency_p50_ms<=12", "top1_agreement>=0.9"]
    with pytest.raises(UsageError, match="one key"):
        parse_gates([{"a": "<1", "b": ">2"}])


def test_evaluation_against_report_values():
    rep = make_report()
    acc = rep.accuracy
    results = evaluate(rep, ["latency_p50_ms<=11", "latency_p50_ms<11", "latency_p90_ms<=20",
                             "peak_memory_mb==12.5", "size_mb<=3.4", f"sqnr_db>={acc['sqnr_db'] + 0.01}",
                             "top1_agreement>=0"])
    assert [r.passed for r in results] == [True, False, False, True, True, False, True]
    assert results[0].value == 11.0 and results[2].value == pytest.approx(22.8)
    assert results[1].message == "latency_p50_ms<11: latency_p50_ms = 11, required < 11 (FAIL)"


def test_missing_measurement_fails():
    rep = make_report()
    rep.accuracy = {}
    (r,) = evaluate(rep, ["top1_agreement>=0.5"])
    assert not r.passed and r.value is None and "was not measured" in r.message
    (s,) = evaluate(rep, ["speedup>=1"])  # no baseline measured
    assert not s.passed


def test_comparison_metrics():
    rep = make_report()
    attach_baseline(rep, {"latency": LatencyStats.from_samples([33.0]), "size_bytes": 13_600_000})
    sp, ratio = evaluate(rep, ["speedup>=2.9", "size_ratio<=0.25"])
    assert sp.passed and sp.value == pytest.approx(3.0) and ratio.passed


def test_each_device_is_gated():
    rep = combine([make_report("A1"), make_report("B2", samples=(20.0, 21.0, 22.0))])
    results = evaluate(report_to_dict(rep), ["latency_p50_ms<=12"])
    assert [(r.section, r.passed) for r in results] == [("A1 (SM-S918B)", True), ("B2 (SM-S918B)", False)]
    with pytest.raises(GateFailure, match=r"1 of 2 gate checks failed: .*B2 \(SM-S918B\)") as exc:
        raise_for_failures(results)
    assert exc.value.exit_code == 3


def test_junit_xml(tmp_path):
    rep = combine([make_report("A1"), make_report("B2", samples=(20.0, 21.0, 22.0))])
    results = evaluate(rep, ["latency_p50_ms<=12", "peak_memory_mb<=100"])
    path = write_junit(results, tmp_path / "ci" / "gates.xml")
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("edgeq.gates.A1_SM-S918B", "latency_p50_ms<=12"), ("edgeq.gates.B2_SM-S918B", "latency_p50_ms<=12"),
        ("edgeq.gates.A1_SM-S918B", "peak_memory_mb<=100"), ("edgeq.gates.B2_SM-S918B", "peak_memory_mb<=100")]
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and "latency_p50_ms = 21" in failed[0].find("failure").get("message")


def test_publish_writes_everything_before_failing(tmp_path):
    from rich.console import Console

    console = Console(record=True, width=120)
    with pytest.raises(GateFailure, match="latency_p50_ms<=5"):
        publish(make_report(), tmp_path / "out", gates=["latency_p50_ms<=5", {"top1_agreement": ">=0"}],
                junit=tmp_path / "junit.xml", console=console)
    data = load_report(tmp_path / "out" / "report.json")
    assert [(g["expr"], g["passed"]) for g in data["gates"]] == [("latency_p50_ms<=5", False),
                                                                   ("top1_agreement>=0", True)]
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert ET.parse(tmp_path / "junit.xml").getroot().find("testsuite").get("failures") == "1"
    text = console.export_text()
    assert "latency p50 (ms)" in text and "FAIL" in text


def test_publish_passes_quietly(tmp_path):
    paths = publish(make_report(), tmp_path, gates=["latency_p50_ms<=12"])
    assert set(paths) == {"json", "md", "html"}


def test_gate_on_one_output():
    from edgeq.profile.gates import Gate, evaluate

    gate = Gate.parse("mean_abs_error[prob] <= 0.02")
    assert (gate.metric, gate.output, gate.expr) == ("mean_abs_error", "prob", "mean_abs_error[prob]<=0.02")
    data = {"sections": [{"name": "host", "accuracy": {
        "mean_abs_error": 0.5, "outputs": {"prob": {"mean_abs_error": 0.01, "decision_agreement": 0.97},
                                           "state": {"mean_abs_error": 0.5}}}}]}
    (ok,) = evaluate(data, [gate])
    assert ok.passed and ok.value == 0.01
    (worst,) = evaluate(data, ["mean_abs_error<=0.02"])  # the worst output fails the plain gate
    assert not worst.passed
    (dec,) = evaluate(data, ["decision_agreement[prob]>=0.98"])
    assert not dec.passed and dec.value == 0.97
    (missing,) = evaluate(data, ["sqnr_db[nope]>=1"])
    assert not missing.passed and missing.value is None
    with pytest.raises(UsageError, match="latency_p50_ms' is not a per-output accuracy metric"):
        Gate.parse("latency_p50_ms[prob]<=3")


def test_decision_agreement_of_probability_outputs():
    import numpy as np

    from edgeq.profile.accuracy import compare_outputs

    refs = [{"p": np.array([0.2, 0.7, 0.6]), "h": np.array([-0.5, 0.5, 2.0])}]
    outs = [{"p": np.array([0.3, 0.4, 0.9]), "h": np.array([-0.5, 0.5, 2.0])}]
    acc = compare_outputs(outs, refs)
    assert acc["outputs"]["p"]["decision_agreement"] == pytest.approx(2 / 3)
    assert acc["outputs"]["h"]["decision_agreement"] is None  # not a probability
