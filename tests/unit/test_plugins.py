"""The plugin mechanism, proven with real entry points of test distributions."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from plugin_env import installed  # noqa: E402

from edgeq import plugins  # noqa: E402
from edgeq.errors import EdgeqError  # noqa: E402
from edgeq.plugins import PluginError, hookimpl  # noqa: E402


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


def test_entry_point_plugin_is_loaded_and_attributed(testplugin):
    pm = plugins.get_plugin_manager()
    assert pm.get_plugin("testplugin") is sys.modules["edgeq_testplugin.plugin"]
    assert plugins.plugin_distributions()["testplugin"] == "edgeq-testplugin 0.1"
    results = dict(plugins.call_each("register_targets"))
    assert [t.name for t in results["testplugin"]] == ["graphjson"]


def test_manager_is_built_lazily_and_cached(testplugin):
    assert plugins._MANAGER is None  # importing edgeq.plugins built nothing
    pm = plugins.get_plugin_manager()
    assert plugins.get_plugin_manager() is pm
    assert plugins.get_plugin_manager(refresh=True) is not pm


def test_builtin_plugins_come_through_the_entry_point_group():
    # pyproject declares the TFLite plugin in the 'edgeq' group like any third party
    from importlib.metadata import distribution

    eps = {ep.name: ep.value for ep in distribution("edgeq").entry_points if ep.group == "edgeq"}
    assert eps.get("tflite") == "edgeq_tflite.plugin"


@pytest.mark.parametrize("value, disabled", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_autoload_switch(monkeypatch, value, disabled):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, value)
    assert plugins.autoload_disabled() is disabled


def test_autoload_disabled_then_explicit_register(testplugin, monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    plugins.reset_plugin_manager()
    pm = plugins.get_plugin_manager()
    assert pm.get_plugins() == set()  # not even the built-ins
    assert plugins.call_each("register_targets") == []

    import edgeq_testplugin.plugin as mod

    assert plugins.register(mod) == "edgeq_testplugin.plugin"
    assert [t.name for _, ts in plugins.call_each("register_targets") for t in ts] == ["graphjson"]
    with pytest.raises(PluginError, match="already registered"):
        plugins.register(mod)


def test_misspelled_hookimpl_from_entry_point_is_quarantined_by_name(tmp_path, caplog):
    with installed(tmp_path, "edgeq-bad", {"typo": "edgeq_badplugin.misspelled"}):
        pm = plugins.get_plugin_manager()
        assert pm.get_plugin("typo") is None  # unregistered: its hooks are never called
        msg = plugins.broken_plugins()["typo"]
        assert "tflite" in {t.name for _, ts in plugins.call_each("register_targets") for t in ts}
    assert "'typo'" in msg and "edgeq-bad 0.1" in msg
    assert "register_target" in msg and "misspelled" in msg
    assert [r.getMessage() for r in caplog.records].count(msg + "; the other plugins' targets still work") == 1


def test_strict_plugins_makes_a_broken_plugin_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(plugins.STRICT_ENV, "1")
    with installed(tmp_path, "edgeq-bad", {"typo": "edgeq_badplugin.misspelled"}):
        with pytest.raises(PluginError, match=f"'typo'.*{plugins.STRICT_ENV} is set"):
            plugins.get_plugin_manager()


def test_misspelled_hookimpl_registered_explicitly_fails_and_is_rolled_back(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    mod = types.ModuleType("typo_plugin")

    @hookimpl
    def register_runner():  # missing 's'
        return []

    mod.register_runner = register_runner
    with pytest.raises(PluginError, match="register_runner"):
        plugins.register(mod)
    assert plugins.get_plugin_manager().get_plugins() == set()


def test_hookimpl_with_unknown_argument_fails(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    mod = types.ModuleType("argplugin")

    @hookimpl
    def register_targets(config):  # hooks take no arguments
        return []

    mod.register_targets = register_targets
    with pytest.raises(PluginError, match="config"):
        plugins.register(mod)


def test_plugin_that_fails_to_import_names_entry_point_and_distribution(tmp_path):
    with installed(tmp_path, "edgeq-broken", {"broken": "edgeq_badplugin.broken_import"}):
        plugins.get_plugin_manager()
        msg = plugins.broken_plugins()["broken"]
    assert "'broken'" in msg and "edgeq-broken 0.1" in msg and "edgeq_no_such_dependency" in msg
    assert plugins.AUTOLOAD_ENV in msg


def test_plugin_returning_non_targets_is_rejected(tmp_path):
    from edgeq.targets import plugin_targets

    with installed(tmp_path, "edgeq-nt", {"nt": "edgeq_badplugin.not_targets"}):
        registered = plugin_targets()
        assert "tflite" in registered and all(plugin != "nt" for plugin, _ in registered.values())
        assert "not an edgeq.contracts.Target" in plugins.broken_plugins()["nt"]
        assert plugins.get_plugin_manager().get_plugin("nt") is None


def test_target_name_clash_names_both_plugins(testplugin):
    from edgeq.targets import plugin_targets
    from edgeq_testplugin.plugin import GraphJsonTarget

    clone = types.ModuleType("clone")
    clone.register_targets = hookimpl(lambda: [GraphJsonTarget()])
    plugins.register(clone, name="clone")
    with pytest.raises(PluginError, match="'graphjson' is registered by both plugins 'testplugin' and 'clone'"):
        plugin_targets()


def test_hook_raising_is_attributed(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    mod = types.ModuleType("boom")

    def register_observers():
        raise KeyError("x")

    mod.register_observers = hookimpl(register_observers)
    plugins.register(mod, name="boom")
    fine = types.ModuleType("fine")
    fine.register_observers = hookimpl(lambda: {"mine": object})
    plugins.register(fine, name="fine")
    assert plugins.collect_mapping("register_observers") == {"mine": object}
    assert "'boom' failed in register_observers(): KeyError('x')" in plugins.broken_plugins()["boom"]
    assert plugins.collect_mapping("register_observers") == {"mine": object}  # stays out


def test_collect_mapping_merges_and_rejects_clashes(monkeypatch):
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    a, b = types.ModuleType("a"), types.ModuleType("b")
    a.register_datasets = hookimpl(lambda: {"csv": list})
    b.register_datasets = hookimpl(lambda: {"parquet": dict})
    plugins.register(a, name="a")
    plugins.register(b, name="b")
    assert plugins.collect_mapping("register_datasets") == {"csv": list, "parquet": dict}
    with pytest.raises(PluginError, match="redefines the built-in 'csv'"):
        plugins.collect_mapping("register_datasets", builtin=("csv",))
    c = types.ModuleType("c")
    c.register_datasets = hookimpl(lambda: {"csv": tuple})
    plugins.register(c, name="c")
    with pytest.raises(PluginError, match="'csv' is registered by both plugins 'a' and 'c'"):
        plugins.collect_mapping("register_datasets")


def test_plugin_error_is_an_edgeq_error():
    assert issubclass(PluginError, EdgeqError)
