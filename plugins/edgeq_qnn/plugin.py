"""pluggy hook implementations of the QNN plugin (entry point ``qnn``).

Both hooks are cheap: they construct the target and list runner classes without
importing onnxruntime-qnn (it is imported when a model is emitted or run).
"""

from __future__ import annotations

from edgeq.sdk import hookimpl


@hookimpl
def register_targets() -> list:
    from edgeq_qnn.target import QnnTarget

    return [QnnTarget()]


@hookimpl
def register_runners() -> list:
    from edgeq_qnn.runners.adb import AdbRunner
    from edgeq_qnn.runners.host import HostRunner

    # host: onnxruntime-qnn's HTP emulator; adb: qnn-net-run on a Snapdragon device
    return [HostRunner, AdbRunner]
