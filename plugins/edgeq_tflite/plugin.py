"""pluggy hook implementations of the TFLite plugin (entry point ``tflite``).

Both hooks are cheap: they construct the target and list runner classes without
importing LiteRT (it is imported when a model is emitted or run).
"""

from __future__ import annotations

import importlib.util

from edgeq.plugins import hookimpl


@hookimpl
def register_targets() -> list:
    from edgeq_tflite.target import TFLiteTarget

    return [TFLiteTarget()]


@hookimpl
def register_runners() -> list:
    from edgeq_tflite.host_runner import HostRunner

    runners: list = [HostRunner]
    # the Android runner (benchmark_model / LiteRT over adb) lives in its own module
    if importlib.util.find_spec("edgeq_tflite.adb_runner") is not None:
        from edgeq_tflite import adb_runner

        runners.extend(getattr(adb_runner, "RUNNERS", ()))
    return runners
