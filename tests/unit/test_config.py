"""edgeq.yaml: schema, path resolution and error messages that name file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeq.config import EdgeqConfig, load_config, parse_config, parse_shape
from edgeq.errors import ConfigError

FULL = """
version: 1
model:
  path: models/m.onnx
  inputs:
    input: 1x3x224x224
    mask: [1, 64]
calibration:
  dataset:
    kind: images
    path: data/calib
    resize: crop
    resize_shorter: 256
    size: 224x224
    mean: [0.485, 0.456, 0.406]
    std: [0.229, 0.224, 0.225]
  num_samples: 256
  method: mse
quantization:
  int16:
    nodes: ["^classifier", "attn.*softmax"]
    op_types: [Softmax]
  auto_mixed: {sqnr_db: 30}
  weights: {clip: max, bias_correction: false}
  per_target:
    tflite:
      weights: {clip: mse}
      float_fallback: {nodes: [erf]}
      auto_mixed: {sqnr_db: 35, max_int16_fraction: 0.25}
targets:
  - tflite
  - name: profiles/pixel8.yaml
    options: {threads: 4}
output: out
profile:
  runner: adb
  device: all
  runner_bin: ~/bin/benchmark_model
  data: {kind: text, path: eval.txt, tokenizer_json: tok/tokenizer.json, max_len: 64}
  gates: ["latency_p50_ms<=12", "top1_agreement >= 0.98", "sqnr_db>=2e1"]
  junit: gates.xml
"""


def write(tmp_path: Path, text: str, name: str = "edgeq.yaml") -> Path:
    path = tmp_path / "proj" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_full_config_and_path_resolution(tmp_path, monkeypatch):
    path = write(tmp_path, FULL)
    monkeypatch.chdir(tmp_path)  # resolution must not depend on the working directory
    cfg = load_config(path)
    base = path.parent.resolve()
    assert cfg.source == path
    assert cfg.model.path == base / "models/m.onnx"
    assert cfg.model.inputs == {"input": (1, 3, 224, 224), "mask": (1, 64)}
    ds = cfg.calibration.dataset
    assert (ds.kind, ds.path, ds.size, ds.resize, ds.resize_shorter) == (
        "images", base / "data/calib", (224, 224), "crop", 256)
    # only the fields written in the file go to edgeq.data (its defaults apply to the rest)
    assert ds.options() == {"path": base / "data/calib", "resize": "crop", "resize_shorter": 256,
                            "size": (224, 224), "mean": [0.485, 0.456, 0.406],
                            "std": [0.229, 0.224, 0.225]}
    assert cfg.calibration.num_samples == 256 and cfg.calibration.seed == 0
    assert cfg.targets[0].name == "tflite" and not cfg.targets[0].is_path()
    assert cfg.targets[1].name == str(base / "profiles/pixel8.yaml")
    assert cfg.targets[1].option_overrides() == {"threads": 4}
    assert cfg.targets[0].option_overrides() == {}
    assert cfg.output == base / "out"
    assert cfg.profile.runner_bin == Path("~/bin/benchmark_model").expanduser()
    assert cfg.profile.data.tokenizer_json == base / "tok/tokenizer.json"
    assert cfg.profile.junit == base / "gates.xml"
    assert cfg.profile.runs == 50 and cfg.profile.warmup == 5


def test_per_target_overrides_merge():
    cfg = load_config_text(FULL)
    q = cfg.quantization.for_target("tflite")
    assert q.weights.clip == "mse"
    assert q.weights.bias_correction is False  # kept from the section
    assert q.float_fallback.nodes == ["erf"]
    assert q.int16.nodes == ["^classifier", "attn.*softmax"]
    other = cfg.quantization.for_target("coreml")
    assert other.weights.clip == "max" and other.float_fallback.empty()


def test_a_targets_gates_and_samples_replace_the_profile_sections(tmp_path):
    (tmp_path / "pixel.yaml").write_text("name: pixel8\ntarget: tflite\n")
    cfg = parse_config({"model": {"path": "m.onnx"},
                        "targets": ["tflite",
                                    {"name": "ane", "gates": ["top1_agreement>=0.75"], "num_samples": 32},
                                    {"name": "qnn-htp-v75", "gates": [], "runs": 3, "warmup": 0},
                                    {"name": "pixel.yaml", "gates": ["sqnr_db>=10"]}],
                        "profile": {"gates": ["top1_agreement>=0.8", "size_mb<=4"], "runs": 20,
                                    "num_samples": 100}}, base_dir=tmp_path)
    # an entry without gates keeps the section's list; with gates, its own list only
    assert cfg.profile_for("tflite").gates == ["top1_agreement>=0.8", "size_mb<=4"]
    ane = cfg.profile_for("ane")
    assert ane.gates == ["top1_agreement>=0.75"] and ane.num_samples == 32 and ane.runs == 20
    qnn = cfg.profile_for("qnn-htp-v75")
    assert qnn.gates == [] and (qnn.runs, qnn.warmup, qnn.num_samples) == (3, 0, 100)
    # a profile YAML entry is found by the name it declares (its OUT/<name> directory)
    assert cfg.profile_for("pixel8").gates == ["sqnr_db>=10"]
    # a target the config does not list, or none, gets the section unchanged
    assert cfg.profile_for("coreml-fp16") is cfg.profile and cfg.profile_for(None) is cfg.profile
    assert cfg.profile.gates == ["top1_agreement>=0.8", "size_mb<=4"]  # not modified


def test_quantize_options_are_accepted_by_the_quantizer():
    from edgeq.quantize.options import QuantizeOptions

    cfg = load_config_text(FULL)
    opts = cfg.quantize_options("tflite")
    assert opts == {"num_samples": 256, "seed": 0, "method": "mse",
                    "int16": ["^classifier", "attn.*softmax"], "int16_ops": ["Softmax"],
                    "float_nodes": ["erf"], "auto_mixed": 35.0, "max_int16_fraction": 0.25,
                    "weight_clip": "mse", "bias_correction": False}
    from edgeq.quantize.algorithms.mixed import Budget

    q = QuantizeOptions.from_kwargs(opts)
    assert (q.method, q.auto_mixed, q.weight_clip, q.bias_correction) == \
        ("mse", Budget("sqnr", 35.0), "mse", False)
    base = QuantizeOptions.from_kwargs(cfg.quantize_options())
    assert base.auto_mixed == Budget("sqnr", 30.0) and base.weight_clip == "max" and base.float_nodes == []
    # an empty config passes nothing: every API default applies
    assert load_config_text("model: {path: m.onnx}").quantize_options("tflite") == {}


def test_weight_algorithms_and_budgets_map_to_real_quantizer_options():
    from edgeq.quantize.algorithms.mixed import Budget
    from edgeq.quantize.options import QuantizeOptions

    text = """
    model: {path: m.onnx}
    calibration: {dataset: {kind: zoo, model: minilm-l6}, method16: mse}
    quantization:
      int16_residual: false
      residual_scaling: false
      weights: {rounding: adaround, equalize: false}
      auto_mixed: {cosine: 0.996}
      per_target:
        tflite: {auto_mixed: {budget: "sqnr:28,min:20"}, weights: {rounding: nearest}}
    """
    cfg = load_config_text(text)
    base = QuantizeOptions.from_kwargs(cfg.quantize_options())
    assert (base.weight_rounding, base.equalize, base.int16_residual, base.method16) == \
        ("adaround", False, False, "mse")
    assert base.residual_scaling is False and not base.scales_residual()
    assert base.auto_mixed == Budget("cosine", 0.996)
    tfl = QuantizeOptions.from_kwargs(cfg.quantize_options("tflite"))
    assert tfl.auto_mixed == Budget.parse("sqnr:28,min:20") and tfl.weight_rounding == "nearest"
    assert tfl.equalize is False  # weights are merged field by field


@pytest.mark.parametrize("auto_mixed, message", [
    ("{}", "exactly one of sqnr_db, cosine or budget"),
    ("{sqnr_db: 30, cosine: 0.99}", "got sqnr_db, cosine"),
    ("{budget: 'psnr:3'}", "auto_mixed.budget: bad mixed-precision budget"),
    ("{cosine: 1.5}", "auto_mixed.cosine"),
])
def test_bad_auto_mixed_budget_names_the_field(auto_mixed, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config_text(f"model: {{path: m.onnx}}\nquantization: {{auto_mixed: {auto_mixed}}}\n")


def test_removed_weight_switches_are_rejected():
    with pytest.raises(ConfigError, match="weights.adaround"):
        load_config_text("model: {path: m.onnx}\nquantization: {weights: {adaround: true}}\n")


def load_config_text(text: str, base: Path | None = None) -> EdgeqConfig:
    import yaml

    return parse_config(yaml.safe_load(textwrap.dedent(text)), source="edgeq.yaml", base_dir=base)


def test_minimal_config_defaults(tmp_path):
    cfg = load_config(write(tmp_path, "model: {path: m.onnx}\n"))
    assert cfg.calibration is None and cfg.targets == [] and cfg.profile.gates == []
    assert cfg.quantization.int16.empty() and cfg.quantization.auto_mixed is None
    assert cfg.output == (tmp_path / "proj").resolve() / "build"


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


@pytest.mark.parametrize("text, line, message", [
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {kind: npy, path: d}\n  num_samples: abc\n",
     4, "calibration.num_samples: expected an integer >= 1, got 'abc'"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {kind: npy, path: d}\n  num_samples: 0\n",
     4, "calibration.num_samples: expected an integer >= 1, got 0"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {kind: npy, path: d}\n  method: kl\n",
     4, "calibration.method: expected one of minmax, percentile, mse, entropy, got 'kl'"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset:\n    kind: images\n    path: d\n    colour: RGB\n",
     6, "calibration.dataset.colour: unknown field; allowed here: kind, path, size, resize"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {kind: csv, path: d}\n",
     3, "calibration.dataset.kind: unknown kind 'csv'; expected one of images, audio, npy, text, zoo"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {path: d}\n",
     3, "calibration.dataset: missing the field 'kind'"),
    ("model: {path: m.onnx}\ncalibration:\n  dataset: {kind: text, path: t.txt}\n",
     3, "calibration.dataset.tokenizer_json: required field is missing (expected a path)"),
    ("model:\n  path: m.onnx\n  inputs: {x: 1xAx3}\n",
     3, "model.inputs.x: expected a shape like 1x3x224x224 (positive integers joined by 'x'), got '1xAx3'"),
    ("model:\n  path: m.onnx\n  inputs: {x: [1, 0]}\n",
     3, "model.inputs.x: expected a shape of positive dimensions, got [1, 0]"),
    ("model: {path: m.onnx}\nquantization:\n  int16: {nodes: ['conv(']}\n",
     3, "quantization.int16.nodes[0]: invalid regular expression 'conv('"),
    ("model: {path: m.onnx}\nquantization:\n  auto_mixed: {sqnr_db: -3}\n",
     3, "quantization.auto_mixed.sqnr_db: expected a number > 0 and < 200, got -3"),
    ("model: {path: m.onnx}\ntargets:\n  - tflite\n  - name: t.yaml\n    options: {threads: 0}\n",
     5, "targets[1].options.threads: expected an integer >= 1, got 0"),
    ("model: {path: m.onnx}\ntargets:\n  - name: ane\n    gates: ['top1 >= 0.8']\n",
     4, "targets[0].gates[0]: unknown gate metric 'top1'"),
    ("model: {path: m.onnx}\ntargets:\n  - name: ane\n    num_samples: 0\n",
     4, "targets[0].num_samples: expected an integer >= 1, got 0"),
    ("model: {path: m.onnx}\ntargets: [tflite, tflite]\n",
     2, "targets: tflite listed more than once"),
    ("model: {path: m.onnx}\nprofile:\n  gates: ['p50 < twelve']\n",
     3, "profile.gates[0]: invalid gate 'p50 < twelve': expected METRIC OP NUMBER"),
    ("model: {path: m.onnx}\nprofile:\n  gates: ['latency_p99_ms <= 3']\n",
     3, "profile.gates[0]: unknown gate metric 'latency_p99_ms'"),
    ("model: {path: m.onnx}\nprofile:\n  warmup: yes please\n",
     3, "profile.warmup: expected an integer >= 0, got 'yes please'"),
    ("model: {path: m.onnx}\nprofile:\n  op_profiling: maybe\n",
     3, "profile.op_profiling: expected true or false, got 'maybe'"),
    ("calibration: {dataset: {kind: npy, path: d}}\n",
     1, "model: required field is missing (expected a mapping with fields path, zoo, inputs)"),
    ("model: {path: m.onnx}\nversion: 2\n", 2, "version: expected one of 1, got 2"),
    ("model: {path: m.onnx}\nmodle: {}\n", 2, "modle: unknown field; allowed here: version, model"),
])
def test_errors_name_file_line_field_and_expectation(tmp_path, text, line, message):
    msg = error_of(tmp_path, text)
    path = tmp_path / "proj" / "edgeq.yaml"
    assert f"{path}:{line}: {message}" in msg, msg


def test_every_problem_is_reported_at_once(tmp_path):
    msg = error_of(tmp_path, "model: {path: m.onnx}\nprofile: {runs: 0, warmup: -1}\noutput: [1]\n")
    header, *lines = msg.splitlines()
    assert header.endswith("edgeq.yaml: 3 problems") and len(lines) == 3
    assert any("profile.runs" in x for x in lines) and any("profile.warmup" in x for x in lines)
    assert any("output: expected a path" in x for x in lines)


@pytest.mark.parametrize("text, message", [
    ("", "edgeq configuration file is empty"),
    ("- a\n- b\n", "expected a mapping of edgeq configuration fields at the top level, got list"),
    ("model: {path: [unclosed\n", "invalid YAML"),
])
def test_unreadable_files(tmp_path, text, message):
    assert message in error_of(tmp_path, text)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: edgeq configuration file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_exit_code_of_config_errors_is_2():
    assert ConfigError.exit_code == 2


@given(st.lists(st.integers(1, 4096), min_size=1, max_size=6))
def test_parse_shape_round_trips(dims):
    assert parse_shape("x".join(map(str, dims))) == tuple(dims)
    assert parse_shape(dims) == tuple(dims)


@pytest.mark.parametrize("bad", ["", "1x", "x3", "1x-3", "1.5x2", "1,3", [1, True], [], "axb"])
def test_parse_shape_rejects(bad):
    with pytest.raises(ValueError):
        parse_shape(bad)


def test_datasets_build_through_edgeq_data(tmp_path):
    """The config's dataset sections are accepted by edgeq.data as they are."""
    from PIL import Image

    rng = np.random.default_rng(0)
    (tmp_path / "imgs").mkdir()
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(tmp_path / "imgs" / f"{i}.png")
    (tmp_path / "feeds").mkdir()
    for i in range(3):
        np.savez(tmp_path / "feeds" / f"{i}.npz", x=rng.standard_normal((1, 4)).astype(np.float32))
    cfg = load_config(write(tmp_path, f"""
        model: {{path: m.onnx}}
        calibration:
          dataset: {{kind: images, path: {tmp_path / 'imgs'}, size: 32, mean: [0.5, 0.5, 0.5], input_name: img}}
          num_samples: 3
          seed: 7
        profile:
          data: {{kind: npy, path: ../feeds}}
        """))
    ds = cfg.calibration.to_dataset()
    feeds = list(ds)
    assert len(ds) == 3 and len(feeds) == 3
    assert feeds[0]["img"].shape == (1, 3, 32, 32) and feeds[0]["img"].dtype == np.float32
    # mean 0.5 after scaling by 1/255: values in [-0.5, 0.5]
    assert feeds[0]["img"].min() >= -0.5 and feeds[0]["img"].max() <= 0.5
    ev = list(cfg.profile.data.to_dataset())
    assert len(ev) == 3 and ev[0]["x"].shape == (1, 4)


def test_plugin_dataset_kind(tmp_path, monkeypatch):
    import types

    from edgeq import plugins

    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    plugins.reset_plugin_manager()
    try:
        mod = types.ModuleType("csvdata")
        mod.register_datasets = plugins.hookimpl(lambda: {"csv": lambda **kw: kw})
        plugins.register(mod, name="csvdata")
        cfg = load_config_text("""
            model: {path: m.onnx}
            calibration: {dataset: {kind: csv, path: rows.csv, delimiter: ';'}, num_samples: 2}
            """)
        assert cfg.calibration.dataset.options() == {"path": "rows.csv", "delimiter": ";"}
        assert cfg.calibration.to_dataset() == {"path": "rows.csv", "delimiter": ";",
                                                "num_samples": 2, "seed": 0}
        with pytest.raises(ConfigError, match="unknown kind 'tsv'; expected one of images, audio, "
                                              "npy, text, zoo; kinds added by plugins: csv"):
            load_config_text("model: {path: m.onnx}\ncalibration: {dataset: {kind: tsv}}\n")
    finally:
        plugins.reset_plugin_manager()


def test_model_from_the_zoo_by_name(tmp_path):
    from edgeq.config import parse_config

    cfg = parse_config({"model": {"zoo": "ppocr-cls"}}, base_dir=tmp_path)
    assert cfg.model.path is None and cfg.model.ref() == "zoo:ppocr-cls"
    assert parse_config({"model": {"path": "m.onnx"}}, base_dir=tmp_path).model.ref() == str(tmp_path / "m.onnx")
    for bad in ({"path": "m.onnx", "zoo": "ppocr-cls"}, {}):
        with pytest.raises(ConfigError, match="give exactly one of path or zoo"):
            parse_config({"model": bad}, base_dir=tmp_path)
