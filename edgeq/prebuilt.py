"""Building from a model that is already quantized: a QuantizedModel from
:func:`edgeq.quantize` (tuned in Python: overrides, mixed precision, inspected with
:func:`edgeq.compare`) or one saved as ``.edgeq``.

:func:`edgeq.build` emits such a model as it is for every target whose constraints it
satisfies (:func:`unmet_constraints` is empty). For a target with other constraints it
says which, and quantizes again for that target from the same calibration data — whose
statistics come from the calibration cache — only when the caller gave that data; it
never re-quantizes silently.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError

log = logging.getLogger(__name__)

#: suffix of a saved QuantizedModel (edgeq/quantize/io/serialize.py)
SAVED_SUFFIX = ".edgeq"


def as_quantized(model: Any):
    """The QuantizedModel ``model`` is or names (a ``.edgeq`` file or directory), or None
    for anything else (an ONNX path, ``zoo:NAME``, a float Model)."""
    from edgeq.quantize.quantized_model import QuantizedModel

    if isinstance(model, QuantizedModel):
        return model
    if isinstance(model, (str, Path)) and str(model).endswith(SAVED_SUFFIX):
        return QuantizedModel.load(model)
    return None


def source_model(qmodel):
    """The float Model a QuantizedModel came from: its float graph, with the source ONNX
    path and sha256 it recorded when that file still exists unchanged (the FP32
    reference of ``edgeq profile``); otherwise without a path (log says why)."""
    from edgeq.contracts import sha256_file
    from edgeq.model import Model

    src = getattr(qmodel, "source", None) or {}
    path = Path(src["path"]) if src.get("path") else None
    sha = src.get("sha256")
    if path is not None and not path.is_file():
        log.warning("the quantized model's source %s no longer exists; the artifact records no "
                    "FP32 model to profile against", path)
        path = None
    elif path is not None and sha and sha256_file(path) != sha:
        log.warning("%s changed since it was quantized (sha256 differs); the artifact records no "
                    "FP32 model to profile against", path)
        path = None
    return Model(qmodel.float_graph, path=path, sha256=sha)


def unmet_constraints(qmodel, resolved) -> list[str]:
    """Why ``qmodel`` cannot be emitted as it is for the resolved target (empty: it can).

    Checked against the target's QuantSpec: every node placed by ``Target.check``
    (nothing unsupported), int16 activations only where the spec runs that op in int16,
    per-channel weights only for the spec's per-channel ops, float nodes only where the
    spec allows float fallback.
    """
    from edgeq.quantize.spec import allows_fallback
    from edgeq.types import QDType

    spec = resolved.spec
    reasons: list[str] = []
    graph = qmodel.graph
    bad = [p for p in resolved.target.check(graph) if p.where == "unsupported"]
    if bad:
        reasons.append(f"{len(bad)} node(s) the target cannot run, e.g. '{bad[0].node}' "
                       f"({bad[0].op_type}): {bad[0].reason}")
    producers = graph.producers()
    wide = sorted({producers[t].op_type for t, tensor in graph.tensors.items()
                   if tensor.quant is not None and tensor.quant.dtype == QDType.INT16 and t in producers
                   and producers[t].op_type not in ("Quantize", "Dequantize")
                   and not (spec.supports_int16() and producers[t].op_type in spec.int16_ops)
                   # a fused LSTM's cell state is int16 by construction (fuse_lstm.py)
                   and not (producers[t].op_type == "IntegerLSTM" and "LSTM" in spec.fused_ops)})
    if wide:
        reasons.append(f"int16 activations on {', '.join(wide)}, which the target runs in int8 only")
    if "LSTM" not in spec.fused_ops and any(n.op_type == "IntegerLSTM" for n in graph.nodes):
        reasons.append("a fused LSTM (IntegerLSTM), which this target (profile) runs unrolled")
    if spec.wide_in_float and any(t.quant is not None and t.quant.dtype == QDType.INT16
                                  for t in graph.tensors.values()):
        reasons.append("int16 tensors, which this profile runs in float (wide: float)")
    per_channel = sorted({n.op_type for n in graph.nodes for i in n.inputs[1:2]
                          if i in graph.tensors and graph.tensors[i].quant is not None
                          and graph.tensors[i].quant.per_channel
                          and graph.tensors[i].quant.dtype == QDType.INT8
                          and n.op_type not in spec.per_channel_ops})
    if per_channel:
        reasons.append(f"per-channel weights on {', '.join(per_channel)}, which the target needs "
                       "per-tensor")
    floats = sorted({f["op_type"] for f in qmodel.report.get("float_nodes", [])
                     if not allows_fallback(spec, f["op_type"])})
    if floats:
        reasons.append(f"float nodes ({', '.join(floats)}) where the target allows no float fallback")
    return reasons


def requantize_error(unmet: dict[str, list[str]], spec_name: str) -> UsageError:
    lines = "; ".join(f"{t}: {', '.join(r)}" for t, r in unmet.items())
    return UsageError(
        f"the quantized model (spec {spec_name!r}) does not fit target(s) {', '.join(unmet)} "
        f"({lines}). Pass calibration= (the data it was quantized with: its statistics come "
        "from the calibration cache) to quantize again for them, or build them from the ONNX model")
