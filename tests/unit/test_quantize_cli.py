"""`edgeq quantize`, `edgeq compare` and `edgeq sensitivity` through the CLI entry point:
files written, JSON reports, exit codes and error messages without tracebacks."""

from __future__ import annotations

import json

import pytest
from _quant_models import cnn_files

from edgeq.cli import main
from edgeq.quantize.api import QuantizedModel


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEQ_CACHE", str(tmp_path / "cache"))
    model, data = cnn_files(tmp_path)
    return model, data, tmp_path


def test_quantize_compare_sensitivity(files, capsys):
    model, data, tmp = files
    out = tmp / "cnn.edgeq"
    assert main(["quantize", str(model), "--calib", str(data), "--int16", "^dw$", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["output"] == str(out) and report["int16_nodes"] == ["dw"]
    assert QuantizedModel.load(out).report["int16_nodes"] == ["dw"]

    assert main(["compare", str(model), str(out), "--data", str(data), "--json", "--layers", "3"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["samples"] == 8 and rep["outputs"]["probs"]["sqnr_db"] > 20
    assert len(rep["layers"]) == 10

    assert main(["compare", str(model), str(out), "--data", str(data), "--layers", "3"]) == 0
    text = capsys.readouterr().out
    assert "sqnr db" in text and "least accurate layers" in text

    assert main(["sensitivity", str(model), "--calib", str(data), "--eval-samples", "2", "--json"]) == 0
    sens = json.loads(capsys.readouterr().out)
    assert sens["samples"] == 2 and {r["layer"] for r in sens["layers"]} >= {"conv1", "fc"}


def test_quantize_table_output(files, capsys):
    model, data, tmp = files
    assert main(["quantize", str(model), "--calib", str(data), "--method", "percentile", "-o",
                 str(tmp / "q")]) == 0
    text = capsys.readouterr().out
    assert "calibration samples" in text and "wrote" in text
    assert (tmp / "q" / "model.json").exists()  # no suffix: a directory


def test_errors_exit_without_traceback(files, capsys):
    model, data, tmp = files
    assert main(["quantize", str(model), "--calib", str(data), "--int16", "(", "-o", str(tmp / "x.edgeq")]) == 2
    err = capsys.readouterr().err
    assert "bad regular expression" in err and "Traceback" not in err
    assert main(["quantize", str(model), "--calib", str(tmp / "nowhere"), "-o", str(tmp / "x.edgeq")]) != 0
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err
    assert main(["compare", str(model), str(tmp / "missing.edgeq"), "--data", str(data)]) == 1
    assert "missing.edgeq" in capsys.readouterr().err
    assert main(["quantize", str(model), "--calib", str(data), "--auto-mixed", "loud", "-o", "x"]) == 2
    assert "budget" in capsys.readouterr().err


def test_summary_is_titled_with_the_model_files_name(tmp_path, capsys):
    from _quant_models import cnn_files

    from edgeq.cli import main

    model, calib = cnn_files(tmp_path)
    assert main(["quantize", str(model), "--calib", str(calib), "-o", str(tmp_path / "q.edgeq")]) == 0
    out = capsys.readouterr().out
    assert f"quantized {model.stem}" in out
