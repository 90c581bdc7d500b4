"""pluggy hook implementations of the Core ML plugin (entry point ``coreml``).

Both hooks are cheap: they construct the target and list runner classes without
importing coremltools (it is imported when a model is emitted, verified or run).
"""

from __future__ import annotations

from edgeq.sdk import hookimpl


@hookimpl
def register_targets() -> list:
    from edgeq_coreml.target import CoreMLTarget

    return [CoreMLTarget()]


@hookimpl
def register_runners() -> list:
    from edgeq_coreml.runners.host import HostRunner
    from edgeq_coreml.runners.iphone import IPhoneRunner
    from edgeq_coreml.runners.mac import MacRunner

    # "host": the saved program interpreted in numpy (any OS); "mac": Core ML itself;
    # "iphone": Core ML on an attached iPhone, driven from a Mac with xcrun devicectl
    return [HostRunner, MacRunner, IPhoneRunner]
