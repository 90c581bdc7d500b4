"""A plugin whose register_targets returns something that is not a Target."""

from edgeq.plugins import hookimpl


@hookimpl
def register_targets():
    return ["tflite"]
