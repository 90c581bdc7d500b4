"""pluggy hook implementations of the TFLite plugin (entry point ``tflite``).

Both hooks are cheap: they construct the target and list runner classes without
importing LiteRT (it is imported when a model is emitted or run).
"""

from __future__ import annotations

from edgeq.sdk import hookimpl


@hookimpl
def register_targets() -> list:
    from edgeq_tflite.target import TFLiteTarget

    return [TFLiteTarget()]


@hookimpl
def register_runners() -> list:
    from edgeq_tflite.runners.adb import RUNNERS as ADB_RUNNERS
    from edgeq_tflite.runners.host import HostRunner

    # the Android runner drives TFLite's benchmark_model over adb (runners/adb.py)
    return [HostRunner, *ADB_RUNNERS]
