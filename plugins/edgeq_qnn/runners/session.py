"""ONNX Runtime sessions on onnxruntime-qnn's HTP backend (an x86-64 emulator of the
Hexagon NPU on Linux hosts), shared by the emitter (context-binary compilation) and the
runners.

onnxruntime-qnn is a plugin execution provider: its library is registered once per
process with ``onnxruntime.register_execution_provider_library``; a session selects its
``OrtEpDevice`` with ``SessionOptions.add_provider_for_devices`` and the HTP backend
library with the ``backend_path`` provider option. Options used (onnxruntime-qnn's
QNN-ExecutionProvider documentation):

* ``session.disable_cpu_ep_fallback=1``: a node QNN cannot take fails the session instead
  of running on ONNX Runtime's CPU EP, so "it ran" means "it ran on HTP";
* ``offload_graph_io_quantization=0``: the boundary QuantizeLinear/DequantizeLinear run
  on HTP too (the default hands them to the CPU EP);
* ``htp_arch`` / ``soc_model``: the HTP generation the graph is compiled for;
* ``ep.context_enable=1`` (+ ``ep.context_file_path``, ``ep.context_embed_mode=0``):
  write an EPContext model and its context binary ``.bin`` at session creation.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from edgeq.sdk import DeviceError, require_module

logger = logging.getLogger(__name__)

EP_NAME = "QNNExecutionProvider"
_lock = threading.Lock()
_registered = False


def qnn_module():
    return require_module("onnxruntime_qnn", "onnxruntime-qnn", "the QNN HTP target")


def _register():
    global _registered
    import onnxruntime as ort

    qnn = qnn_module()
    with _lock:
        if not _registered:
            ort.set_default_logger_severity(3)  # the EP's informational warnings are not ours
            try:
                ort.register_execution_provider_library(EP_NAME, qnn.get_library_path())
            except Exception as exc:  # already registered by someone else in this process
                if "already" not in str(exc).lower():
                    raise DeviceError(f"onnxruntime could not load {qnn.get_library_path()}: {exc}; "
                                      "reinstall onnxruntime-qnn matching onnxruntime") from exc
            _registered = True
    devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    if not devices:
        raise DeviceError("onnxruntime-qnn registered no QNN device; reinstall onnxruntime-qnn")
    return ort, qnn, devices


def provider_options(htp_arch: int | None = None, soc_model: int | None = None,
                     profiling_level: str | None = None, profiling_file: str | None = None) -> dict:
    qnn = qnn_module()
    opts = {"backend_path": qnn.get_qnn_htp_path(), "offload_graph_io_quantization": "0"}
    if htp_arch:
        opts["htp_arch"] = str(int(htp_arch))
    if soc_model:
        opts["soc_model"] = str(int(soc_model))
    if profiling_level:
        opts["profiling_level"] = profiling_level
        if profiling_file:
            opts["profiling_file_path"] = str(profiling_file)
    return opts


def htp_session(model: str | Path | bytes, *, htp_arch: int | None = None, soc_model: int | None = None,
                context_file: str | Path | None = None, threads: int = 1, **extra_options):
    """An InferenceSession on the HTP backend with CPU fallback disabled.

    With ``context_file`` the session compiles the graph and writes the EPContext model
    there (and its ``.bin`` next to it). Raises ``DeviceError`` naming the model when
    QNN cannot place every node (the message of ONNX Runtime says which).
    """
    ort, _, devices = _register()
    so = ort.SessionOptions()
    so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    so.intra_op_num_threads = int(threads)
    so.log_severity_level = 3
    if context_file is not None:
        so.add_session_config_entry("ep.context_enable", "1")
        so.add_session_config_entry("ep.context_file_path", str(context_file))
        so.add_session_config_entry("ep.context_embed_mode", "0")
    so.add_provider_for_devices(devices, provider_options(htp_arch, soc_model, **extra_options))
    src = model if isinstance(model, (bytes, bytearray)) else str(model)
    try:
        return ort.InferenceSession(src, sess_options=so)
    except Exception as exc:  # onnxruntime raises its own exception types
        where = "the model" if isinstance(model, (bytes, bytearray)) else str(model)
        raise DeviceError(f"{where}: the QNN HTP backend could not take the whole graph "
                          f"(CPU fallback is disabled): {exc}") from exc


def placement(session) -> list[str]:
    """Execution providers the session uses; ``["QNNExecutionProvider"]`` when every node
    is on HTP (CPU fallback is disabled, so anything else has already failed)."""
    return list(session.get_providers())


def op_trace(model: str | Path, *, htp_arch: int | None = None, soc_model: int | None = None) -> dict:
    """What QNN EP makes of ``model``: compile it with the CPU fallback *allowed* and the
    EP's framework op trace on, and return ``{"qnn_ops", "onnx_nodes", "unsupported":
    [{"node", "op_type", "reason"}], "fusions"}``. Used to name every node that would
    not run on HTP (a session with the fallback disabled only says that one does not)."""
    import json
    import tempfile

    ort, _, devices = _register()
    with tempfile.TemporaryDirectory(prefix="edgeq-qnn-trace-") as tmp:
        so = ort.SessionOptions()
        so.log_severity_level = 3
        opts = provider_options(htp_arch, soc_model)
        opts.update({"enable_framework_op_trace": "1", "framework_op_trace_dir": tmp})
        so.add_provider_for_devices(devices, opts)
        try:
            ort.InferenceSession(str(model), sess_options=so)
        except Exception as exc:
            raise DeviceError(f"{model}: onnxruntime could not load the model: {exc}") from exc
        trace_file = Path(tmp) / "qnn_op_trace.json"
        if not trace_file.is_file():
            return {"qnn_ops": None, "onnx_nodes": None, "unsupported": [], "fusions": {}}
        trace = json.loads(trace_file.read_text())
    summary = trace.get("summary", {})
    return {"qnn_ops": summary.get("total_qnn_ops"), "onnx_nodes": summary.get("total_onnx_nodes"),
            "unsupported": [{"node": u.get("node_name", ""), "op_type": u.get("op_type", ""),
                             "reason": u.get("reason", "")} for u in trace.get("unsupported_nodes", [])],
            "fusions": summary.get("fusion_count", {})}
