"""Reports: accuracy metrics, report.json schema, report.md, self-contained report.html."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import numpy as np
import pytest

from edgeq.errors import UsageError
from edgeq.profile.accuracy import SQNR_CAP_DB, attach_accuracy, compare_outputs, cosine, sqnr_db
from edgeq.profile.report import (attach_baseline, combine, load_report, report_to_dict, sections,
                                  write_reports)
from edgeq.profile.report_schema import SCHEMA_VERSION, json_schema, validate_report
from edgeq.contracts import LatencyStats, ProfileReport


def make_report(serial="R5CT01", samples=(9.0, 10.0, 11.0, 12.0, 30.0), seed=0, per_layer=True):
    rng = np.random.default_rng(seed)
    refs = [{"logits": rng.normal(size=(1, 10)).astype(np.float32)} for _ in range(6)]
    outs = [{"logits": r["logits"] + rng.normal(0, 0.05, (1, 10)).astype(np.float32)} for r in refs]
    rep = ProfileReport(
        target="tflite", runner="adb", latency=LatencyStats.from_samples(list(samples), load_ms=40.0),
        peak_memory_mb=12.5,
        device={"serial": serial, "kind": "android", "model": "SM-S918B", "soc": "SM8550",
                "abi": "arm64-v8a", "os_version": "14", "extra": {"sdk": "34"}},
        artifact={"path": "build/tflite", "model_file": "model.tflite", "size_bytes": 3_400_000},
        op_profile=[{"node_type": "CONV_2D", "name": f"conv{i}", "index": i, "first_ms": 1.0,
                     "avg_ms": 2.0 / (i + 1), "percent": 10.0, "cdf_percent": 10.0 * (i + 1),
                     "mem_kb": 0.0, "times_called": 1} for i in range(4)],
        outputs=outs)
    attach_accuracy(rep, refs)
    if per_layer:
        rep.accuracy["per_layer"] = [{"name": f"layer{i}", "sqnr_db": 40.0 - 2 * i} for i in range(12)]
    return rep


# -- accuracy ----------------------------------------------------------------------------

def test_sqnr_and_cosine_hand_derived():
    # signal 1² + 2² = 5, noise 0.1² = 0.01 -> 10·log10(500)
    assert sqnr_db(np.array([1.0, 2.0]), np.array([1.0, 2.1])) == pytest.approx(10 * math.log10(500))
    assert sqnr_db(np.ones(4), np.ones(4)) == SQNR_CAP_DB
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert cosine(np.zeros(3), np.zeros(3)) == 1.0 and cosine(np.zeros(3), np.ones(3)) == 0.0


def test_compare_outputs_top1_and_worst_output():
    refs = [{"cls": np.array([[0.1, 0.9, 0.0]]), "vad": np.array([[0.5]])},
            {"cls": np.array([[0.8, 0.1, 0.1]]), "vad": np.array([[0.2]])}]
    outs = [{"cls": np.array([[0.1, 0.8, 0.2]]), "vad": np.array([[0.5]])},
            {"cls": np.array([[0.1, 0.7, 0.2]]), "vad": np.array([[0.25]])}]
    acc = compare_outputs(outs, refs)
    assert acc["outputs"]["cls"]["top1_agreement"] == 0.5  # second sample flips class
    assert acc["outputs"]["vad"]["top1_agreement"] is None  # one-entry output: no arg-max
    assert acc["top1_agreement"] == 0.5
    assert acc["sqnr_db"] == min(acc["outputs"]["cls"]["sqnr_db"], acc["outputs"]["vad"]["sqnr_db"])
    assert acc["max_abs_error"] == pytest.approx(0.7)
    # vad: signal .25+.04=.29, noise .0025
    assert acc["outputs"]["vad"]["sqnr_db"] == pytest.approx(10 * math.log10(0.29 / 0.0025))


def test_compare_outputs_errors_name_the_problem():
    ref = [{"y": np.zeros((1, 4))}]
    with pytest.raises(UsageError, match="no output 'y'"):
        compare_outputs([{"z": np.zeros((1, 4))}], ref)
    with pytest.raises(UsageError, match=r"output 'y' of sample 0 has shape \[1, 5\]"):
        compare_outputs([{"y": np.zeros((1, 5))}], ref)
    with pytest.raises(UsageError, match="2 output samples but 1 reference"):
        compare_outputs([{"y": np.zeros((1, 4))}] * 2, ref)


# -- report.json -------------------------------------------------------------------------

def test_report_dict_is_valid_and_versioned(tmp_path):
    data = report_to_dict(make_report())
    validate_report(data)
    assert data["schema"] == "edgeq.profile-report" and data["schema_version"] == SCHEMA_VERSION
    sec = data["sections"][0]
    assert sec["name"] == "R5CT01 (SM-S918B)"
    assert sec["latency"]["p50_ms"] == 11.0 and sec["latency"]["samples_ms"][-1] == 30.0
    assert data["artifact"]["size_mb"] == 3.4
    assert 0.0 <= sec["accuracy"]["top1_agreement"] <= 1.0
    json.dumps(data, allow_nan=False)


@pytest.mark.parametrize("mutate,match", [
    (lambda d: d.update(schema_version=99), "newer than this edgeq"),
    (lambda d: d.update(sections=[]), "sections"),
    (lambda d: d["sections"][0]["latency"].pop("p50_ms"), r"sections\.0\.latency\.p50_ms"),
    (lambda d: d["sections"][0].update(bogus=1), "bogus"),
    (lambda d: d["sections"][0]["accuracy"].update(top1_agreement=1.5), "top1_agreement"),
])
def test_schema_rejects_bad_reports(mutate, match):
    data = report_to_dict(make_report())
    mutate(data)
    with pytest.raises(ValueError, match=match):
        validate_report(data)


def test_json_schema_export_matches_model():
    schema = json_schema()
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert "sections" in schema["required"]


def test_load_report_round_trip_and_errors(tmp_path):
    paths = write_reports(make_report(), tmp_path, formats=("json",))
    assert load_report(paths["json"])["sections"][0]["peak_memory_mb"] == 12.5
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}')
    with pytest.raises(UsageError, match="bad.json: not a valid edgeq.profile-report"):
        load_report(bad)


def test_nonfinite_values_become_null(tmp_path):
    rep = make_report()
    rep.peak_memory_mb = float("nan")
    data = json.loads(write_reports(rep, tmp_path, formats=("json",))["json"].read_text())
    assert data["sections"][0]["peak_memory_mb"] is None


def test_combine_and_comparison():
    rep = combine([make_report("A1", seed=1), make_report("B2", seed=2)])
    assert [s.device["serial"] for s in sections(rep)] == ["A1", "B2"]
    attach_baseline(rep, {"latency": LatencyStats.from_samples([30.0, 33.0, 36.0]), "size_bytes": 13_600_000})
    data = report_to_dict(rep)
    validate_report(data)
    comp = data["comparison"]
    assert comp["baseline"] == {"label": "fp32", "latency_p50_ms": 33.0, "latency_mean_ms": 33.0, "size_mb": 13.6}
    assert comp["speedup"] == pytest.approx(33.0 / 11.0) and comp["size_ratio"] == pytest.approx(0.25)


def test_host_runner_artifact_spelling_is_accepted():
    rep = make_report()
    rep.artifact = {"path": "x", "model_file": "model.tflite", "bytes": 2_000_000}
    assert report_to_dict(rep)["artifact"]["size_mb"] == 2.0


# -- report.md / report.html ------------------------------------------------------------

def test_markdown_tables(tmp_path):
    md = write_reports(make_report(), tmp_path, formats=("md",))["md"].read_text()
    assert "| latency p50 (ms) | 11 |" in md
    assert "| soc | SM8550 |" in md
    assert "### Per-layer SQNR (10 worst)" in md and "| layer11 | 18 |" in md
    assert "| 0 | CONV_2D | conv0 | 2 |" in md


def _images(html: str) -> list[tuple[str, bytes]]:
    return [(m.group(1), base64.b64decode(m.group(2)))
            for m in re.finditer(r'<img class="plot" id="([^"]+)"[^>]* src="data:image/[a-z+]+;base64,([^"]+)"', html)]


def test_html_is_self_contained_with_decodable_plots(tmp_path):
    from PIL import Image

    rep = combine([make_report("A1", seed=1), make_report("B2", seed=2)])
    attach_baseline(rep, {"latency": LatencyStats.from_samples([30.0, 33.0]), "size_bytes": 13_600_000})
    html = write_reports(rep, tmp_path, formats=("html",))["html"].read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing external
    imgs = dict(_images(html))
    assert set(imgs) == {"plot-comparison", "plot-latency", "plot-sqnr-0", "plot-sqnr-1", "plot-ops-0", "plot-ops-1"}
    for name, png in imgs.items():
        im = Image.open(io.BytesIO(png))
        im.load()
        assert im.format == "PNG" and im.size[0] > 200 and im.size[1] > 100, name
        assert len(set(im.convert("L").getdata())) > 5, f"{name} is blank"
    assert "SM8550" in html and "fp32 vs int8" in html


def test_html_svg_plots(tmp_path):
    html = write_reports(make_report(), tmp_path, formats=("html",), plot_format="svg")["html"].read_text()
    svgs = _images(html)
    assert svgs and all(b"<svg" in data for _, data in svgs)


def test_html_escapes_report_text(tmp_path):
    rep = make_report(serial="<script>alert(1)</script>")
    html = write_reports(rep, tmp_path, formats=("html",))["html"].read_text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_failed_render_leaves_no_files(tmp_path, monkeypatch):
    from edgeq.profile import report_html

    def boom(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(report_html, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_reports(make_report(), tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


def test_one_latency_schema():
    """report.json's latency object has exactly LatencyStats' fields, with its required ones."""
    import dataclasses

    from edgeq.profile.report_schema import Latency
    from edgeq.contracts import LatencyStats

    assert list(Latency.model_fields) == [f.name for f in dataclasses.fields(LatencyStats)]
    required = {n for n, f in Latency.model_fields.items() if f.is_required()}
    assert required == {"runs", "p50_ms", "p90_ms", "mean_ms", "min_ms", "max_ms", "std_ms"}
    stats = LatencyStats.from_samples([1.0, 2.0, 3.0])
    assert Latency(**dataclasses.asdict(stats)).p50_ms == 2.0
    with pytest.raises(Exception):
        Latency(**{**dataclasses.asdict(stats), "runs": -1})
