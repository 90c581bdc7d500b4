"""``edgeq targets`` in a real process, with a test plugin installed through an entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from plugin_env import subprocess_env, write_dist  # noqa: E402


def edgeq(*argv: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeq", *argv], capture_output=True, text=True,
                          env={**env, "COLUMNS": "200"}, timeout=120)


@pytest.fixture
def plugin_env(tmp_path) -> dict:
    write_dist(tmp_path, "edgeq-testplugin", {"testplugin": "edgeq_testplugin.plugin"})
    return subprocess_env(tmp_path)


def test_targets_json_lists_the_entry_point_plugin(plugin_env):
    p = edgeq("targets", "--json", env=plugin_env)
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert rows["graphjson"] == {
        "name": "graphjson", "target": "graphjson", "plugin": "testplugin", "artifact_kind": ".json",
        "runners": ["host"], "sdk_installed": True, "sdk_packages": ["json"],
        "description": "Writes the graph's nodes as JSON (a format for tests and debugging).",
        "chip": None, "source": "plugin", "available": True}
    assert rows["tflite"]["source"] == "builtin"


def test_targets_table(plugin_env):
    p = edgeq("targets", env=plugin_env)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if "graphjson" in x)
    for cell in ("testplugin", ".json", "host", "yes"):
        assert cell in line


def test_autoload_disabled_hides_entry_point_plugins(plugin_env):
    p = edgeq("targets", "--json", env={**plugin_env, "EDGEQ_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert p.returncode == 0, p.stderr
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert "graphjson" not in rows
    assert rows["tflite"]["plugin"] is None and rows["tflite"]["available"] is False


def test_misspelled_hook_is_reported_and_the_other_targets_listed(tmp_path):
    write_dist(tmp_path, "edgeq-typo", {"typo": "edgeq_badplugin.misspelled"})
    p = edgeq("targets", env=subprocess_env(tmp_path))
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert "warning: invalid edgeq plugin 'typo'" in p.stderr and "register_target" in p.stderr
    assert "broken plugin typo" in p.stdout
    assert any(line.split()[1:2] == ["tflite"] for line in p.stdout.splitlines() if "│" in line)


def test_broken_plugin_import_names_it(tmp_path):
    write_dist(tmp_path, "edgeq-broken", {"broken": "edgeq_badplugin.broken_import"})
    p = edgeq("targets", env=subprocess_env(tmp_path))
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert "'broken'" in p.stderr and "edgeq-broken 0.1" in p.stderr


def test_strict_plugins_fails_the_command_on_a_broken_plugin(tmp_path):
    write_dist(tmp_path, "edgeq-broken", {"broken": "edgeq_badplugin.broken_import"})
    p = edgeq("targets", env={**subprocess_env(tmp_path), "EDGEQ_STRICT_PLUGINS": "1"})
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("error: failed to load edgeq plugin entry point 'broken'")


def test_help_works_with_a_broken_plugin(tmp_path):
    """Plugins load only when a command needs them: --help and --version never do."""
    write_dist(tmp_path, "edgeq-broken", {"broken": "edgeq_badplugin.broken_import"})
    env = subprocess_env(tmp_path)
    assert edgeq("--help", env=env).returncode == 0
    assert edgeq("--version", env=env).returncode == 0


def test_config_check_resolves_targets(plugin_env, tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"")
    (tmp_path / "phone.yaml").write_text("name: phone\ntarget: graphjson\noptions: {threads: 2}\n")
    cfg = tmp_path / "edgeq.yaml"
    cfg.write_text("model: {path: m.onnx}\ntargets: [graphjson, {name: phone.yaml, options: {threads: 4}}]\n")
    p = edgeq("config", "check", str(cfg), "--json", env=plugin_env)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["targets"][1]["name"] == str(tmp_path / "phone.yaml")
    cfg.write_text("model: {path: m.onnx}\ntargets: [grafjson]\n")
    p = edgeq("config", "check", str(cfg), env=plugin_env)
    assert p.returncode == 2 and "unknown target 'grafjson'" in p.stderr and "graphjson" in p.stderr
