"""The HTP context binary, compiled offline by onnxruntime-qnn.

A session over the QDQ model with ``ep.context_enable=1`` and the profile's ``htp_arch``
and ``soc_model`` composes and finalizes the QNN graph for that HTP generation and writes
an EPContext ONNX model (one ``EPContext`` node referencing the context) and the
serialized QNN context ``.bin`` next to it. No inference runs and no device is needed:
the x86-64 HTP backend of the wheel prepares graphs for any supported architecture.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from edgeq.sdk import BuildError

logger = logging.getLogger(__name__)

CONTEXT_MODEL = "model_ctx.onnx"


@dataclass
class ContextBinary:
    model: Path  # the EPContext ONNX model
    binary: Path  # the QNN context binary it references
    seconds: float
    graph_name: str


def compile_context(qdq_path: Path, out_dir: Path, *, htp_arch: int, soc_model: int | None) -> ContextBinary:
    """Compile ``qdq_path`` into ``out_dir/model_ctx.onnx`` + its ``.bin``."""
    import onnx

    from edgeq_qnn.runners.session import htp_session

    ctx_model = Path(out_dir) / CONTEXT_MODEL
    t0 = time.perf_counter()
    try:
        # from bytes, not the path: onnxruntime names the EPContext partition (a name the
        # .bin embeds) after a hash of the model path when there is one, and the path is
        # the build's random staging directory; without it the name hashes the graph only,
        # so the same model gives the same context bytes
        session = htp_session(qdq_path.read_bytes(), htp_arch=htp_arch, soc_model=soc_model,
                              context_file=ctx_model)
    except Exception as exc:
        raise BuildError(f"{qdq_path}: onnxruntime-qnn could not compile an HTP v{htp_arch} context "
                         f"binary: {exc}") from exc
    del session
    seconds = time.perf_counter() - t0
    if not ctx_model.is_file():
        raise BuildError(f"{ctx_model}: onnxruntime-qnn wrote no EPContext model")
    m = onnx.load(str(ctx_model), load_external_data=False)
    nodes = [n for n in m.graph.node if n.op_type == "EPContext"]
    if len(nodes) != 1:
        raise BuildError(f"{ctx_model}: expected one EPContext node (the whole graph on HTP), found "
                         f"{len(nodes)} among {[n.op_type for n in m.graph.node]}")
    attrs = {a.name: a for a in nodes[0].attribute}
    if attrs["embed_mode"].i != 0:
        raise BuildError(f"{ctx_model}: the context binary is embedded; expected a separate .bin")
    binary = ctx_model.parent / attrs["ep_cache_context"].s.decode()
    if not binary.is_file():
        raise BuildError(f"{ctx_model}: the context binary {binary.name} it references is missing")
    logger.info("qnn: HTP v%s context binary %s (%d bytes) in %.2f s", htp_arch, binary.name,
                binary.stat().st_size, seconds)
    return ContextBinary(ctx_model, binary, seconds, nodes[0].name)
