"""Hook specifications and the plugin manager.

Every target — built-in or third-party — registers through the ``edgeq`` entry-point
group. Hooks take keyword arguments only and are named verb-first. The manager is built
inside :func:`get_plugin_manager` (not at import time), calls ``check_pending()`` so a
misspelled ``@hookimpl`` fails loudly, and honours ``EDGEQ_DISABLE_PLUGIN_AUTOLOAD``.
"""

from __future__ import annotations

import os

import pluggy

from edgeq.errors import EdgeqError

PROJECT = "edgeq"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class HookSpecs:
    @hookspec
    def register_targets(self) -> list:
        """Return a list of :class:`edgeq.target.Target` instances this plugin provides.

        Names must be unique across all plugins; a clash is an error naming both plugins.
        """

    @hookspec
    def register_runners(self) -> list:
        """Return a list of :class:`edgeq.target.Runner` subclasses (factories).

        Each factory is called with keyword options (``threads``, ``device``, …) and its
        ``name``/``targets`` class attributes say what it runs.
        """

    @hookspec
    def register_datasets(self) -> dict:
        """Return ``{kind: factory}`` of extra calibration dataset kinds for ``edgeq.yaml``."""

    @hookspec
    def register_observers(self) -> dict:
        """Return ``{name: Observer class}`` of extra range observers."""


_MANAGER: pluggy.PluginManager | None = None


def get_plugin_manager(*, refresh: bool = False) -> pluggy.PluginManager:
    """The plugin manager, built on first use and cached (``refresh`` rebuilds it)."""
    global _MANAGER
    if _MANAGER is not None and not refresh:
        return _MANAGER
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(HookSpecs)
    if not os.environ.get("EDGEQ_DISABLE_PLUGIN_AUTOLOAD"):
        try:
            pm.load_setuptools_entrypoints(PROJECT)
        except Exception as exc:  # a broken third-party plugin must name itself
            raise EdgeqError(f"failed to load an edgeq plugin from the 'edgeq' entry-point "
                             f"group: {exc!r}; uninstall or fix that plugin") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise EdgeqError(f"invalid edgeq plugin: {exc}") from exc
    _MANAGER = pm
    return pm
