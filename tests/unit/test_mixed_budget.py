"""Mixed-precision budgets: the syntax (with the worst-sample bound ``,min:V``), the
scores against hand-computed cosines and SQNRs, and the automatic mode with a
worst-sample bound end to end on a small transformer and through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _quant_models import cnn_feeds, cnn_files, save, small_cnn, tiny_transformer, transformer_feeds

import edgeq
from edgeq.cli import main
from edgeq.errors import UsageError
from edgeq.interp.ort_backend import OrtRunner
from edgeq.quantize.algorithms.mixed import Budget, Score


@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory):
    return edgeq.load(save(small_cnn(), tmp_path_factory.mktemp("m") / "cnn.onnx"))


@pytest.mark.parametrize("spec, expected, text", [
    (30, Budget("sqnr", 30.0), "sqnr >= 30 dB"),
    ("30", Budget("sqnr", 30.0), "sqnr >= 30 dB"),
    ("sqnr:27.5", Budget("sqnr", 27.5), "sqnr >= 27.5 dB"),
    ("cosine:0.995", Budget("cosine", 0.995), "cosine >= 0.995"),
    ("cosine:0.996,min:0.993", Budget("cosine", 0.996, 0.993), "cosine >= 0.996, min >= 0.993"),
    (" COSINE:0.996 , min: 0.99 ", Budget("cosine", 0.996, 0.99), "cosine >= 0.996, min >= 0.99"),
    ("sqnr:30,min:24", Budget("sqnr", 30.0, 24.0), "sqnr >= 30 dB, min >= 24 dB"),
    ("30,min:24", Budget("sqnr", 30.0, 24.0), "sqnr >= 30 dB, min >= 24 dB"),
])
def test_budget_syntax(spec, expected, text):
    budget = Budget.parse(spec)
    assert budget == expected and str(budget) == text
    assert Budget.parse(budget) is budget


@pytest.mark.parametrize("spec", ["loud", "", "snr:30", "cosine:1.5", "cosine:0.99,min:2", "cosine:0.99,max:0.9",
                                  "cosine:0.99,min:", "cosine:0.99,min:0.9,min:0.8", "sqnr:inf", "cosine:nan",
                                  True])
def test_bad_budgets_name_the_syntax(spec, cnn_model):
    with pytest.raises(UsageError, match=r"bad mixed-precision budget.*'cosine:0.996,min:0.993'"):
        Budget.parse(spec)
    with pytest.raises(UsageError, match="min:V"):  # refused before any calibration
        edgeq.quantize(cnn_model, cnn_feeds(2), auto_mixed=spec, use_cache=False)


def test_scores_against_hand_computed_values():
    rng = np.random.default_rng(3)
    refs = [{"y": rng.normal(size=(1, 8)), "z": rng.normal(size=(4,))} for _ in range(3)]
    outs = [{k: v + rng.normal(scale=0.05 * (i + 1), size=v.shape) for k, v in r.items()}
            for i, r in enumerate(refs)]

    def cos(a, b):
        a, b = np.ravel(a), np.ravel(b)
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    c = np.array([[cos(r[k], o[k]) for k in ("y", "z")] for r, o in zip(refs, outs)])
    budget = Budget.parse("cosine:0.99,min:0.98")
    np.testing.assert_allclose(budget.per_sample(refs, outs), c.min(axis=1))
    assert budget.score(refs, outs) == pytest.approx(c.mean(axis=0).min())
    # the worst sample is taken over the scored samples and the extra tail samples
    score = budget.measure(refs[:2], outs[:2], refs[2:], outs[2:])
    assert score.value == pytest.approx(c[:2].mean(axis=0).min())
    assert score.worst == pytest.approx(c.min())

    s = np.array([[10 * np.log10(np.sum(r[k] ** 2) / np.sum((o[k] - r[k]) ** 2)) for k in ("y", "z")]
                  for r, o in zip(refs, outs)])
    np.testing.assert_allclose(Budget.parse("sqnr:20,min:10").per_sample(refs, outs), s.min(axis=1))

    assert budget.met(Score(0.995, 0.985)) and not budget.met(Score(0.995, 0.975))
    assert not budget.met(Score(0.985, 0.999))
    assert Budget.parse("cosine:0.99").met(Score(0.995, 0.5)) and Budget.parse("cosine:0.99").met(0.991)


def test_auto_mixed_with_a_worst_sample_bound(tmp_path):
    model = edgeq.load(save(tiny_transformer(), tmp_path / "tr.onnx"))
    calib = transformer_feeds(24)
    base = edgeq.quantize(model, calib, progress=False, cache_dir=str(tmp_path))
    qm = edgeq.quantize(model, calib, progress=False, cache_dir=str(tmp_path),
                        auto_mixed="sqnr:40,min:38", eval_samples=4)
    info = qm.report["auto_mixed"]
    assert info["budget"] == "sqnr >= 40 dB, min >= 38 dB"
    assert all("min" in s for s in info["steps"]) and info["steps"][0]["promoted"] == 0
    assert len(qm.report["int16_nodes"]) > len(base.report["int16_nodes"])
    # the reported scores are the simulator's: the aggregate over the first eval_samples
    # calibration samples, the worst sample over those and the hardest others
    runner = OrtRunner(model.graph)
    refs = [runner.run(f) for f in calib[:4]]
    outs = [qm.run(f) for f in calib[:4]]
    budget = Budget.parse("sqnr:40,min:38")
    assert info["score"] == pytest.approx(budget.score(refs, outs), abs=1e-6)
    assert info["min"] <= budget.per_sample(refs, outs).min() + 1e-6
    if info["met"]:
        assert info["score"] >= 40 and info["min"] >= 38
    else:
        assert info["steps"][-1]["promoted"] > 0


def test_cli_parses_the_worst_sample_bound(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EDGEQ_CACHE", str(tmp_path / "cache"))
    model, data = cnn_files(tmp_path)
    out = tmp_path / "q.edgeq"
    assert main(["quantize", str(model), "--calib", str(data), "--auto-mixed", "sqnr:20,min:15",
                 "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["auto_mixed"]["budget"] == "sqnr >= 20 dB, min >= 15 dB"
    assert main(["quantize", str(model), "--calib", str(data), "--auto-mixed", "sqnr:20,max:15",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "min:V" in err and "Traceback" not in err


@pytest.mark.parametrize("budget", [Budget("sqnr", 30.0), Budget("sqnr", 27.5, 24.0), Budget("cosine", 0.995),
                                    Budget("cosine", 0.996, 0.993)])
def test_display_form_parses_back(budget):
    assert Budget.parse(str(budget)) == budget
