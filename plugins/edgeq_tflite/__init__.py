"""edgeq's TFLite target plugin: full-integer ``.tflite`` written without TensorFlow,
verified against LiteRT, with a host profiling runner.

Registered through the ``edgeq`` entry-point group (``tflite = "edgeq_tflite.plugin"``)
like any third-party plugin. Importing this package is cheap: LiteRT and flatbuffers
are imported only when a model is emitted or run.

Library entry points::

    from edgeq_tflite import TFLiteTarget, HostRunner, build_artifact
    from edgeq_tflite.emit.export import export_quantized, export_float
"""

from __future__ import annotations

__all__ = ["TFLiteTarget", "HostRunner", "build_artifact", "TFLITE_SPEC"]


def __getattr__(name: str):
    if name in ("TFLiteTarget", "build_artifact", "TFLITE_SPEC"):
        from edgeq_tflite import target

        return getattr(target, name)
    if name == "HostRunner":
        from edgeq_tflite.runners.host import HostRunner

        return HostRunner
    raise AttributeError(f"module 'edgeq_tflite' has no attribute {name!r}")
