"""Make a plugin under tests/plugins discoverable through a real ``edgeq`` entry point.

A ``<dist>.dist-info`` directory with METADATA and entry_points.txt is written into a
temporary directory that is put on ``sys.path`` (in-process) or ``PYTHONPATH``
(subprocesses). ``importlib.metadata`` — and so pluggy's entry-point loading — then
sees an installed distribution, exactly as after ``pip install``.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parent


def write_dist(dist_dir: Path, dist_name: str, entry_points: dict[str, str],
               version: str = "0.1") -> Path:
    """Write ``dist_name-version.dist-info`` declaring ``entry_points`` in group ``edgeq``."""
    info = dist_dir / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    lines = ["[edgeq]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return info


def subprocess_env(dist_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess that sees the dist in ``dist_dir`` and tests/plugins."""
    env = dict(os.environ)
    parts = [str(dist_dir), str(PLUGINS_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop(  # never let the developer's setting change what these tests see
        "EDGEQ_DISABLE_PLUGIN_AUTOLOAD", None)
    env.update(extra)
    return env


@contextmanager
def installed(dist_dir: Path, dist_name: str, entry_points: dict[str, str]):
    """In-process: the distribution is importable and visible to importlib.metadata."""
    from edgeq.plugins import reset_plugin_manager

    write_dist(dist_dir, dist_name, entry_points)
    sys.path[:0] = [str(dist_dir), str(PLUGINS_DIR)]
    importlib.invalidate_caches()
    reset_plugin_manager()
    try:
        yield
    finally:
        for p in (str(dist_dir), str(PLUGINS_DIR)):
            sys.path.remove(p)
        for mod in [m for m in sys.modules if m.startswith(("edgeq_testplugin", "edgeq_badplugin"))]:
            del sys.modules[mod]
        importlib.invalidate_caches()
        reset_plugin_manager()
