"""edgeq's Qualcomm QNN target plugin: a QNN-ready QDQ ONNX model with edgeq's
quantization, AIMET-style encodings for the QNN SDK's converter and an HTP context binary
compiled offline by onnxruntime-qnn; runners on onnxruntime-qnn's HTP emulator (host) and
``qnn-net-run`` over adb.

Registered through the ``edgeq`` entry-point group (``qnn = "edgeq_qnn.plugin"``) like any
third-party plugin. Importing this package is cheap: onnxruntime-qnn is imported only when
a model is emitted or run.
"""

from __future__ import annotations

__all__ = ["QnnTarget", "HostRunner", "QNN_HTP"]


def __getattr__(name: str):
    if name == "QnnTarget":
        from edgeq_qnn.target import QnnTarget

        return QnnTarget
    if name == "QNN_HTP":
        from edgeq_qnn.spec import QNN_HTP

        return QNN_HTP
    if name == "HostRunner":
        from edgeq_qnn.runners.host import HostRunner

        return HostRunner
    raise AttributeError(f"module 'edgeq_qnn' has no attribute {name!r}")
