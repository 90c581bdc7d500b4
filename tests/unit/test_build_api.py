"""edgeq.build: artifact layout, manifest and build report, one calibration for several
targets, and builds that fail leaving nothing behind. Real quantizer, real LiteRT."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnxruntime as ort
import pytest

pytest.importorskip("ai_edge_litert.interpreter")

import edgeq  # noqa: E402
from edgeq.errors import BuildError, CalibrationError, UnsupportedOpError, UsageError  # noqa: E402
from edgeq.contracts import Artifact  # noqa: E402

from _build_helpers import (INPUT, OUTPUT, feeds, litert_run, npy_dir, png_dir, profile_yaml,  # noqa: E402
                            read_json, samples, small_cnn, tree, with_erf)


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("EDGEQ_CACHE", str(root))
    return root


@pytest.fixture
def model(tmp_path):
    return small_cnn(tmp_path / "cnn.onnx")


@pytest.fixture
def calib(tmp_path):
    return npy_dir(tmp_path / "calib", 16)


def _ort(model_path, x):
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    return sess.run([OUTPUT], {INPUT: x})[0]


def test_layout_manifest_and_report(model, calib, tmp_path):
    out = tmp_path / "out"
    arts = edgeq.build(model, targets=["tflite"], calibration=calib, output_dir=out, progress=False)
    art = arts["tflite"]
    assert art.path == out / "tflite"
    assert tree(out) == ["tflite", "tflite/build_report.json", "tflite/manifest.json",
                         "tflite/model.tflite"]
    m = read_json(out / "tflite" / "manifest.json")
    assert m["target"] == "tflite" and m["edgeq_version"] == edgeq.__version__
    data = (out / "tflite" / "model.tflite").read_bytes()
    assert m["files"]["model.tflite"] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    # build_report.json records timings: not hashed, so that the manifest is reproducible
    assert "build_report.json" not in m["files"]
    Artifact.load(out / "tflite").verify()
    src = m["source"]
    assert src["model"] == str(model.resolve())
    assert src["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert src["input_shapes"] == {INPUT: [1, 3, 16, 16]}
    assert src["zoo"] is None
    assert m["inputs"][0]["name"] == INPUT and m["inputs"][0]["source_shape"] == [1, 3, 16, 16]
    assert m["outputs"][0]["name"] == OUTPUT
    assert m["tool_versions"]["ai-edge-litert"]
    # the calibration fingerprint is the data set's (16 npy files in name order)
    ds = edgeq.data.npy(calib, input_name=INPUT)
    assert m["calibration_fingerprint"] == ds.fingerprint()
    assert m["build"]["calibration"]["samples"] == 16
    rep = read_json(out / "tflite" / "build_report.json")
    assert rep["schema"] == "edgeq.build-report" and rep["target"] == "tflite"
    assert {"load_s", "quantize_s", "calibration_s", "check_s", "emit_s"} <= set(rep["timings_s"])
    assert rep["sizes"]["model_bytes"] == (out / "tflite" / "model.tflite").stat().st_size
    assert rep["sizes"]["source_bytes"] == model.stat().st_size
    counts = rep["placement"]["counts"]
    assert counts.get("unsupported", 0) == 0 and counts["integer"] >= 5
    assert sum(counts.values()) == len(rep["placement"]["nodes"])
    q = rep["quantization"]
    assert q["spec"] and q["calibration_fingerprint"] == m["calibration_fingerprint"]
    # per-layer SQNR of the conv outputs, measured on calibration samples
    layers = {r["name"]: r for r in q["per_layer_sqnr"]}
    assert layers and all(r["sqnr_db"] is None or r["sqnr_db"] > 10 for r in layers.values())


def test_int8_tflite_tracks_the_fp32_model(model, calib, tmp_path):
    art = edgeq.build(model, targets="tflite", calibration=calib, output_dir=tmp_path / "o",
                      progress=False, layer_sqnr_samples=0)["tflite"]
    for x in samples(4, seed=7):
        ref = _ort(model, x)
        got = litert_run(art.path / "model.tflite", x)
        cos = float(np.dot(ref.ravel(), got.ravel()) / np.linalg.norm(ref) / np.linalg.norm(got))
        assert cos > 0.99
    assert "per_layer_sqnr" not in read_json(art.path / "build_report.json")["quantization"]


def test_fp32_target_needs_no_calibration(model, tmp_path):
    arts = edgeq.build(model, targets=[("tflite", {"precision": "fp32"})], output_dir=tmp_path / "o",
                       progress=False)
    art = arts["tflite"]
    assert art.manifest["options"]["precision"] == "fp32"
    assert read_json(art.path / "build_report.json")["quantization"] is None
    x = samples(1, seed=3)[0]
    np.testing.assert_allclose(litert_run(art.path / "model.tflite", x), _ort(model, x), rtol=1e-4, atol=1e-4)


def test_int8_without_calibration_is_a_usage_error(model, tmp_path):
    with pytest.raises(UsageError, match="calibration"):
        edgeq.build(model, targets=["tflite"], output_dir=tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


def test_several_targets_calibrate_once(model, calib, tmp_path, cache):
    same = profile_yaml(tmp_path / "int8io.yaml", "int8io", io_dtype="int8")
    no16 = profile_yaml(tmp_path / "no16.yaml", "no16", int16=False)
    arts = edgeq.build(model, targets=["tflite", str(same), str(no16)], calibration=calib,
                       output_dir=tmp_path / "o", progress=False, layer_sqnr_samples=0)
    assert sorted(arts) == ["int8io", "no16", "tflite"]
    reps = {n: read_json(a.path / "build_report.json") for n, a in arts.items()}
    # tflite and int8io share the spec and options: one quantization
    assert reps["tflite"]["quantization"]["shared_with"] == ["int8io"]
    assert reps["int8io"]["quantization"]["shared_with"] == ["tflite"]
    assert reps["no16"]["quantization"]["shared_with"] == []
    # no16 has another spec: quantized again, from the statistics collected for tflite
    assert reps["tflite"]["quantization"]["timings"]["calibration_cached"] is False
    assert reps["no16"]["quantization"]["timings"]["calibration_cached"] is True
    assert len(list((cache / "calibration").glob("*.npz"))) == 1
    assert arts["int8io"].manifest["inputs"][0]["dtype"] == "int8"
    assert arts["tflite"].manifest["inputs"][0]["dtype"] == "float32"
    fps = {a.manifest["calibration_fingerprint"] for a in arts.values()}
    assert len(fps) == 1


def test_calibrates_once_even_without_the_users_cache(model, calib, tmp_path, cache):
    no16 = profile_yaml(tmp_path / "no16.yaml", "no16", int16=False)
    arts = edgeq.build(model, targets=["tflite", str(no16)], calibration=calib, use_cache=False,
                       output_dir=tmp_path / "o", progress=False, layer_sqnr_samples=0)
    rep = read_json(arts["no16"].path / "build_report.json")
    assert rep["quantization"]["timings"]["calibration_cached"] is True
    assert not (cache / "calibration").exists() or not list((cache / "calibration").iterdir())


def test_duplicate_target_names_are_refused(model, calib, tmp_path):
    with pytest.raises(UsageError, match="more than once"):
        edgeq.build(model, targets=["tflite", "tflite"], calibration=calib, output_dir=tmp_path / "o")


def test_rebuild_replaces_the_previous_build(model, calib, tmp_path):
    out = tmp_path / "o"
    edgeq.build(model, targets=["tflite"], calibration=calib, output_dir=out, progress=False,
                layer_sqnr_samples=0)
    (out / "tflite" / "stale.txt").write_text("from an earlier build")
    edgeq.build(model, targets=[("tflite", {"io_dtype": "int8"})], calibration=calib,
                output_dir=out, progress=False, layer_sqnr_samples=0)
    assert tree(out) == ["tflite", "tflite/build_report.json", "tflite/manifest.json",
                         "tflite/model.tflite"]
    assert read_json(out / "tflite" / "manifest.json")["inputs"][0]["dtype"] == "int8"


def test_unwritable_output_leaves_nothing(model, calib, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    before = tree(tmp_path)
    with pytest.raises(BuildError, match="a_file"):
        edgeq.build(model, targets=["tflite"], calibration=calib, output_dir=blocker / "out" / "deeper",
                    progress=False, layer_sqnr_samples=0)
    assert tree(tmp_path) == before


class _FailingTarget:
    """A target plugin whose emit writes part of its artifact, then fails (a full disk)."""

    @staticmethod
    def make():
        from edgeq_tflite.spec import TFLITE_INT8
        from edgeq.contracts import Target
        from edgeq.types import NodePlacement

        class Failing(Target):
            name = "failing"
            artifact_kind = ".bin"
            sdk_packages = ()

            @property
            def spec(self):
                return TFLITE_INT8

            def check(self, graph):
                return [NodePlacement(n.name, n.op_type, "integer") for n in graph.nodes]

            def emit(self, qmodel, out_dir, options):
                (out_dir / "part-1.bin").write_bytes(b"\0" * 1024)
                raise BuildError(f"{out_dir / 'part-2.bin'}: No space left on device")

        return Failing()


@pytest.fixture
def failing_plugin():
    from edgeq.plugins import get_plugin_manager, hookimpl, register, reset_plugin_manager

    class Plugin:
        @hookimpl
        def register_targets(self):
            return [_FailingTarget.make()]

    reset_plugin_manager()
    get_plugin_manager()
    register(Plugin(), name="failing-test-plugin")
    yield
    reset_plugin_manager()


def test_emit_failure_midway_leaves_the_old_build(model, calib, tmp_path, failing_plugin):
    out = tmp_path / "o"
    edgeq.build(model, targets=["tflite"], calibration=calib, output_dir=out, progress=False,
                layer_sqnr_samples=0)
    before = {p: (out / p).read_bytes() for p in tree(out) if (out / p).is_file()}
    with pytest.raises(BuildError, match="No space left"):
        edgeq.build(model, targets=[("tflite", {"io_dtype": "int8"}), "failing"], calibration=calib,
                    output_dir=out, progress=False, layer_sqnr_samples=0)
    assert {p: (out / p).read_bytes() for p in tree(out) if (out / p).is_file()} == before
    assert tree(out) == sorted(["tflite", *before])  # no staging or 'failing' directory


def test_unsupported_op_is_named_and_nothing_written(tmp_path):
    model = with_erf(tmp_path / "erf.onnx")
    data = [{INPUT: np.linspace(-2, 2, 8, dtype=np.float32)[None] * s} for s in (0.5, 1, 2)]
    with pytest.raises((UnsupportedOpError, edgeq.errors.QuantizationError)) as err:
        edgeq.build(model, targets=["tflite"], calibration=data, output_dir=tmp_path / "o",
                    progress=False, layer_sqnr_samples=0)
    assert "the_erf" in str(err.value) and "Erf" in str(err.value)
    assert not (tmp_path / "o").exists()


def test_calibration_forms(model, tmp_path):
    """A directory of PNGs (kind detected from content, size from the model input) and a
    list of feed dicts both calibrate."""
    pngs = png_dir(tmp_path / "pngs", 6)
    art = edgeq.build(model, targets=["tflite"], calibration=pngs, output_dir=tmp_path / "a",
                      progress=False, layer_sqnr_samples=0)["tflite"]
    cal = art.manifest["build"]["calibration"]
    assert cal["kind"] == "images" and cal["samples"] == 6
    art = edgeq.build(model, targets=["tflite"], calibration=feeds(5, 1), output_dir=tmp_path / "b",
                      progress=False, layer_sqnr_samples=0)["tflite"]
    assert art.manifest["build"]["calibration"]["samples"] == 5


def test_calibration_data_of_the_wrong_shape(model, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    np.save(bad / "x.npy", np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(CalibrationError, match=r"x\.npy.*\(1, 3, 8, 8\)"):
        edgeq.build(model, targets=["tflite"], calibration=bad, output_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_build_and_profile_stay_callable_after_their_modules_are_imported(model, tmp_path):
    import edgeq.build as build_module  # noqa: F401  (binds edgeq.build to the module)
    import edgeq.profile.report  # noqa: F401

    arts = edgeq.build(model, targets=[("tflite", {"precision": "fp32"})], output_dir=tmp_path / "o",
                       progress=False)
    rep = edgeq.profile(arts["tflite"].path, runs=2, warmup=0, progress=False)
    assert rep.latency.runs == 2
    assert json.loads((arts["tflite"].path / "report.json").read_text())["target"] == "tflite"
