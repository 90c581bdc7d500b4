"""Hook specifications and the plugin manager.

Every target — built-in or third-party — registers through the ``edgeq`` entry-point
group; edgeq's own TFLite plugin is declared in pyproject.toml exactly as a third-party
package would declare its own::

    [project.entry-points.edgeq]
    tflite = "edgeq_tflite.plugin"

Hooks take keyword arguments only and are named verb-first. The manager is built inside
:func:`get_plugin_manager` (never at import time) and calls ``check_pending()``, so a
misspelled ``@hookimpl`` is caught instead of being ignored.

An installed plugin that fails to import, has invalid hooks, or raises inside a hook is
*quarantined*: it is reported by name (a warning, ``edgeq targets``, and the error of any
command that asks for a target it would have provided) and the other plugins keep
working, so one broken third-party package cannot take every target down. Set
``EDGEQ_STRICT_PLUGINS=1`` (plugin CI) to make any broken plugin an error instead.

``EDGEQ_DISABLE_PLUGIN_AUTOLOAD=1`` skips the entry points entirely — built-ins
included, since they come through the same door. Plugins are then registered explicitly
with :func:`register` (see docs/plugins.md).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pluggy

from edgeq.errors import EdgeqError

log = logging.getLogger(__name__)

PROJECT = "edgeq"
ENTRY_POINT_GROUP = "edgeq"
AUTOLOAD_ENV = "EDGEQ_DISABLE_PLUGIN_AUTOLOAD"
STRICT_ENV = "EDGEQ_STRICT_PLUGINS"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(EdgeqError):
    """A plugin that cannot be loaded or that breaks the hook contracts."""


class HookSpecs:
    """The hooks a plugin may implement. Each is optional; all take no arguments."""

    @hookspec
    def register_targets(self) -> list:
        """Return a list of :class:`edgeq.contracts.Target` instances this plugin provides.

        Construction must be cheap and must not import the target's SDK (``edgeq
        targets`` calls this on every run). Target names are unique across all plugins;
        a clash is an error naming both plugins.
        """

    @hookspec
    def register_runners(self) -> list:
        """Return a list of runner factories: :class:`edgeq.contracts.Runner` subclasses
        (or callables with the same class attributes).

        ``name`` (e.g. ``"host"``, ``"adb"``) and ``targets`` (the target names it runs)
        say what each factory is for; it is called with keyword options (``threads``,
        ``device``, ``delegate`` …) when a profile run starts. A (runner name, target)
        pair must be unique across plugins.
        """

    @hookspec
    def register_datasets(self) -> dict:
        """Return ``{kind: factory}`` of extra calibration dataset kinds.

        A factory is called with the dataset's options as keyword arguments and returns
        an iterable of feed dicts with ``__len__``. Kinds are unique across plugins and
        may not shadow the built-in kinds (images, audio, npy, text, zoo).
        """

    @hookspec
    def register_observers(self) -> dict:
        """Return ``{name: Observer class}`` of extra range observers.

        Names are unique across plugins and may not shadow the built-in observers
        (minmax, percentile, mse, entropy).
        """


HOOK_NAMES: tuple[str, ...] = tuple(n for n in vars(HookSpecs) if n.startswith("register_"))

_MANAGER: pluggy.PluginManager | None = None
#: plugin name -> "distribution version", for plugins loaded from entry points
_DISTS: dict[str, str] = {}
#: plugin name -> why it was quarantined (the message already logged once)
_BROKEN: dict[str, str] = {}


def strict_plugins() -> bool:
    """True when ``EDGEQ_STRICT_PLUGINS`` asks for a broken plugin to be an error."""
    return os.environ.get(STRICT_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def broken_plugins() -> dict[str, str]:
    """``{plugin name: reason}`` of the plugins quarantined so far in this process."""
    return dict(_BROKEN)


def quarantine(pm: pluggy.PluginManager | None, name: str, message: str, cause: BaseException | None = None) -> None:
    """Take plugin ``name`` out of service and report it once, by name.

    Its hooks are unregistered (when it was registered), so later hook calls skip it;
    ``message`` names the plugin, its distribution and the fix. Under
    ``EDGEQ_STRICT_PLUGINS`` raises :class:`PluginError` with that message instead.
    """
    if strict_plugins():
        raise PluginError(f"{message} ({STRICT_ENV} is set)") from cause
    if pm is not None:
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin, name=name)
    if name not in _BROKEN:
        _BROKEN[name] = message
        log.warning("%s; the other plugins' targets still work", message)


def autoload_disabled() -> bool:
    """True when ``EDGEQ_DISABLE_PLUGIN_AUTOLOAD`` is set to anything but ``0``/``false``/``no``/empty."""
    value = os.environ.get(AUTOLOAD_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def get_plugin_manager(*, refresh: bool = False) -> pluggy.PluginManager:
    """The plugin manager, built on first use and cached (``refresh=True`` rebuilds it).

    Loads every ``edgeq`` entry point unless autoload is disabled, then validates all
    hook implementations against :class:`HookSpecs`. A plugin that fails to import or is
    invalid is quarantined (:func:`quarantine`), naming its entry point and distribution.
    """
    global _MANAGER
    if _MANAGER is not None and not refresh:
        return _MANAGER
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(HookSpecs)
    _DISTS.clear()
    _BROKEN.clear()
    if autoload_disabled():
        log.info("%s is set: not loading entry-point plugins", AUTOLOAD_ENV)
    else:
        _load_entry_points(pm)
    _check(pm)
    _MANAGER = pm
    return pm


def reset_plugin_manager() -> None:
    """Forget the cached manager; the next :func:`get_plugin_manager` rebuilds it."""
    global _MANAGER
    _MANAGER = None


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object (usually a module with ``@hookimpl`` functions) explicitly.

    This is how plugins are added when ``EDGEQ_DISABLE_PLUGIN_AUTOLOAD`` is set, or from
    a script or test without installing a distribution. The hooks are validated at once;
    returns the registered name.
    """
    pm = get_plugin_manager()
    label = name or getattr(plugin, "__name__", None) or repr(plugin)
    try:
        registered = pm.register(plugin, name=name)
    except ValueError as exc:  # pluggy: already registered / name taken
        raise PluginError(f"cannot register plugin {label!r}: {exc}") from exc
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"invalid edgeq plugin {label!r}: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        message = _pending_message(pm, exc)
        pm.unregister(plugin)
        raise PluginError(message) from exc
    return registered or label


def plugin_distributions() -> dict[str, str]:
    """``{plugin name: "distribution version"}`` for plugins loaded from entry points."""
    get_plugin_manager()
    return dict(_DISTS)


def call_each(hook_name: str) -> list[tuple[str, Any]]:
    """Call one no-argument hook on every plugin; return ``[(plugin name, result)]``.

    Results are attributed to their plugin (pluggy's own call would merge them), so the
    callers can name the plugin in clash and type errors. A plugin raising inside its
    hook is quarantined (reported by name, its results dropped) and the others' results
    are returned.
    """
    if hook_name not in HOOK_NAMES:
        raise ValueError(f"unknown hook {hook_name!r}")
    pm = get_plugin_manager()
    out = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():  # registration order
        try:
            result = impl.function()
        except Exception as exc:
            dist = f" (distribution '{_DISTS[impl.plugin_name]}')" if impl.plugin_name in _DISTS else ""
            quarantine(pm, impl.plugin_name,
                       f"plugin {impl.plugin_name!r}{dist} failed in {hook_name}(): {exc!r}; fix or "
                       f"uninstall that package", exc)
            continue
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


def collect_mapping(hook_name: str, builtin: tuple[str, ...] = ()) -> dict[str, Any]:
    """Merge the ``{key: value}`` results of ``register_datasets``/``register_observers``.

    A key given by two plugins, or shadowing one of ``builtin``, is a :class:`PluginError`.
    """
    merged: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for plugin, result in call_each(hook_name):
        if not isinstance(result, dict):
            raise PluginError(f"plugin {plugin!r}: {hook_name}() must return a dict, "
                              f"got {type(result).__name__}")
        for key, value in result.items():
            if key in builtin:
                raise PluginError(f"plugin {plugin!r}: {hook_name}() redefines the built-in {key!r}")
            if key in merged:
                raise PluginError(f"{hook_name}: {key!r} is registered by both plugins "
                                  f"{owner[key]!r} and {plugin!r}; uninstall one of them")
            merged[key], owner[key] = value, plugin
    return merged


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    from importlib.metadata import distributions

    seen: dict[str, str] = {}
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            where = f"entry point {ep.name!r} = {ep.value!r} of distribution " \
                    f"'{dist.metadata['Name']} {dist.version}'"
            if ep.name in seen:
                if seen[ep.name] == ep.value:
                    continue  # the same distribution visible twice on sys.path
                raise PluginError(f"two edgeq plugins are named {ep.name!r}: {seen[ep.name]!r} "
                                  f"and {where}; uninstall one of them")
            seen[ep.name] = ep.value
            try:
                plugin = ep.load()
            except Exception as exc:
                quarantine(pm, ep.name,
                           f"failed to load edgeq plugin {where}: {exc!r}. Fix or uninstall that "
                           f"package, or set {AUTOLOAD_ENV}=1 and register plugins explicitly", exc)
                continue
            try:
                pm.register(plugin, name=ep.name)
            except (ValueError, pluggy.PluginValidationError) as exc:
                quarantine(pm, ep.name, f"invalid edgeq plugin {where}: {exc}", exc)
                continue
            _DISTS[ep.name] = f"{dist.metadata['Name']} {dist.version}"
            log.debug("loaded edgeq plugin %s", where)


def _check(pm: pluggy.PluginManager) -> None:
    """Validate every registered plugin's hooks, quarantining each invalid one."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            quarantine(pm, name, _pending_message(pm, exc), exc)
            if pm.is_registered(exc.plugin):
                pm.unregister(exc.plugin)


def _pending_message(pm: pluggy.PluginManager, exc: pluggy.PluginValidationError) -> str:
    name = pm.get_name(exc.plugin) or repr(exc.plugin)
    dist = f" (distribution '{_DISTS[name]}')" if name in _DISTS else ""
    return (f"invalid edgeq plugin {name!r}{dist}: {exc}. edgeq's hooks are: "
            f"{', '.join(HOOK_NAMES)} - is one misspelled?")
