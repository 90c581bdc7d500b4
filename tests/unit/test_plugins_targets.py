"""Target profiles and the Target/Runner registry (edgeq.targets)."""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from plugin_env import installed  # noqa: E402

from edgeq import plugins  # noqa: E402
from edgeq.errors import ConfigError, TargetUnavailableError  # noqa: E402
from edgeq.targets import (TargetProfile, builtin_profiles, get_runner, get_target,  # noqa: E402
                           list_targets, load_profile)
from edgeq.types import QDType  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_manager(monkeypatch):
    monkeypatch.delenv(plugins.AUTOLOAD_ENV, raising=False)
    plugins.reset_plugin_manager()
    yield
    plugins.reset_plugin_manager()


@pytest.fixture
def testplugin(tmp_path):
    with installed(tmp_path / "site", "edgeq-testplugin", {"testplugin": "edgeq_testplugin.plugin"}):
        yield


def write_profile(path: Path, **fields) -> Path:
    path.write_text(yaml.safe_dump(fields))
    return path


def test_builtin_profiles_are_package_data_and_valid():
    files = sorted(e.name for e in importlib.resources.files("edgeq._targets").iterdir()
                   if e.name.endswith(".yaml"))
    assert files == sorted(p.name for p in (REPO / "targets").glob("*.yaml"))
    profiles = builtin_profiles()
    assert "tflite" in profiles and profiles["tflite"].target == "tflite"
    assert set(profiles) == {f[:-5] for f in files}


def test_bare_plugin_target_name_resolves_with_default_options(testplugin):
    rt = get_target("graphjson")
    assert (rt.name, rt.plugin, rt.source) == ("graphjson", "testplugin", "plugin")
    assert rt.target.artifact_kind == ".json"
    assert rt.profile.options.threads == 1


def test_user_profile_path_binds_plugin_target_and_options(testplugin, tmp_path):
    path = write_profile(tmp_path / "phone.yaml", name="my-phone", target="graphjson",
                         chip="Snapdragon 8 Gen 3",
                         options={"threads": 4, "io_dtype": "int8", "int16": False,
                                  "extra": {"tile": 8}})
    rt = get_target(str(path))
    assert (rt.name, rt.source) == ("my-phone", str(path))
    opts = rt.build_options()
    assert (opts.io_dtype, opts.profile, opts.chip, opts.extra) == (
        "int8", "my-phone", "Snapdragon 8 Gen 3",
        # the profile's switches reach the plugin through extra too
        {"tile": 8, "float_fallback": False, "wide": "int16", "profile": "my-phone"})
    # the profile narrows the target's QuantSpec: no int16, no float fallback
    assert rt.target.spec.activation_dtypes == (QDType.INT8, QDType.INT16)
    assert rt.spec.activation_dtypes == (QDType.INT8,)
    assert rt.target.spec.float_fallback_ops and not rt.spec.float_fallback_ops
    assert get_target(path).name == "my-phone"  # a Path works too


def test_profile_allowing_fallback_keeps_target_spec(testplugin, tmp_path):
    path = write_profile(tmp_path / "fb.yaml", name="fb", target="graphjson",
                         options={"float_fallback": True})
    rt = get_target(path)
    assert rt.spec.float_fallback_ops == frozenset({"Softmax"})
    assert QDType.INT16 in rt.spec.activation_dtypes


def test_option_overrides_are_validated(testplugin):
    rt = get_target("graphjson", {"threads": 8})
    assert rt.profile.options.threads == 8
    with pytest.raises(ConfigError, match=r"threads: expected an integer >= 1, got 0"):
        get_target("graphjson", {"threads": 0})


def test_unknown_target_lists_available(testplugin):
    with pytest.raises(TargetUnavailableError) as info:
        get_target("tflit")
    msg = str(info.value)
    assert "unknown target 'tflit'" in msg and "graphjson" in msg and "tflite" in msg


def test_missing_profile_file(tmp_path):
    with pytest.raises(TargetUnavailableError, match="nope.yaml: target profile file not found"):
        get_target(str(tmp_path / "nope.yaml"))


def test_profile_whose_plugin_is_missing(testplugin, tmp_path):
    path = write_profile(tmp_path / "x.yaml", name="x", target="qnn-htp")
    with pytest.raises(TargetUnavailableError, match="uses the plugin target 'qnn-htp', which no "
                                                     "installed plugin provides.*graphjson"):
        get_target(path)


def test_autoload_disabled_profile_error_says_how_to_register(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    with pytest.raises(TargetUnavailableError, match=r"edgeq.plugins.register\(module\)"):
        get_target("tflite")


@pytest.mark.parametrize("fields, expected", [
    ({"name": "a", "target": "graphjson", "options": {"threads": "many"}},
     "bad.yaml:3: options.threads: expected an integer >= 1, got 'many'"),
    ({"name": "a", "target": "graphjson", "options": {"io_dtype": "int4"}},
     "options.io_dtype: expected one of float32, int8, uint8, got 'int4'"),
    ({"name": "a", "target": "graphjson", "option": {}},
     "option: unknown field; allowed here: name, target, description, chip, runner, options"),
    ({"target": "graphjson"}, "name: required field is missing"),
    ({"name": "Has Space", "target": "graphjson"}, "name: expected a string"),
])
def test_invalid_profile_names_file_and_field(tmp_path, fields, expected):
    path = write_profile(tmp_path / "bad.yaml", **fields)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_profile_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: a\ntarget: [graphjson\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+:\d+: invalid YAML"):
        load_profile(path)


def test_list_targets_rows(testplugin):
    rows = {r.name: r for r in list_targets()}
    g = rows["graphjson"]
    assert (g.plugin, g.artifact_kind, g.runners, g.sdk_installed, g.source) == \
        ("testplugin", ".json", ("host",), True, "plugin")
    assert g.available and g.to_json()["runners"] == ["host"]
    assert rows["tflite"].source == "builtin"


def test_list_targets_shows_builtin_profile_without_plugin(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    row = {r.name: r for r in list_targets()}["tflite"]
    assert row.plugin is None and row.sdk_installed is None and not row.available
    assert row.description  # from the profile itself


def test_get_runner_passes_profile_options_and_overrides(testplugin, tmp_path):
    path = write_profile(tmp_path / "p.yaml", name="p", target="graphjson",
                         options={"threads": 3, "delegate": "gpu"})
    runner = get_runner("host", str(path))
    assert (runner.threads, runner.delegate) == (3, "gpu")
    runner = get_runner("host", get_target(path), threads=6, device="ignored-by-host")
    assert (runner.threads, runner.delegate) == (6, "gpu")


def test_unknown_runner_lists_available(testplugin):
    with pytest.raises(TargetUnavailableError, match="no runner 'adb' for target 'graphjson'; "
                                                     "runners available for it: host"):
        get_runner("adb", "graphjson")


def test_runner_round_trip_through_an_emitted_artifact(testplugin, tmp_path):
    """The test plugin's target emits and its runner reads back, through the contracts."""
    from types import SimpleNamespace

    from edgeq.ir.graph import Graph, Node, Tensor

    g = Graph(name="g", tensors={"x": Tensor("x", "float32", (1, 4)), "y": Tensor("y", "float32", (1, 4))},
              nodes=[Node("relu0", "Relu", ["x"], ["y"])], inputs=["x"], outputs=["y"])
    rt = get_target("graphjson")
    assert [p.where for p in rt.target.check(g)] == ["integer"]
    art = rt.target.emit(SimpleNamespace(graph=g), tmp_path, rt.build_options())
    assert art.manifest["files"]["graph.json"]["bytes"] > 0
    x = np.linspace(-2, 2, 4, dtype=np.float32).reshape(1, 4)
    # the runner reads the graph back and computes it (a float Relu graph: exact)
    np.testing.assert_array_equal(get_runner("host", rt).run(art, {"x": x})["y"], np.maximum(x, 0))


def test_profile_model_is_strict():
    with pytest.raises(Exception):
        TargetProfile(name="a", target="b", bogus=1)
