"""A plugin whose hook name is misspelled (``register_target`` for ``register_targets``)."""

from edgeq.plugins import hookimpl


@hookimpl
def register_target():
    return []
