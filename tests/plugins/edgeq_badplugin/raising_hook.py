"""A plugin whose register_targets raises (a bug in a third-party package)."""

from edgeq.plugins import hookimpl


@hookimpl
def register_targets():
    raise RuntimeError("edgeq_badplugin: the target table is corrupt")
