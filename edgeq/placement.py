"""Which nodes each installed target can run in integer arithmetic, before calibration.

:func:`integer_placement` lowers the float graph exactly as :func:`edgeq.quantize` will
(``edgeq.quantize.rewrites.prepare``: SiLU as Sigmoid·x, ReduceSum as a mean, LSTM unrolled …)
and asks every installed target's QuantSpec about each node, with the same per-node
checks the quantizer applies (``build._config_problem``: 2-D convolutions only, nearest
Resize …). A node that only moves indices or shapes (no float output) is not listed.
Emitter limits that depend on quantization parameters (e.g. a Resize whose pixels a
builtin cannot reproduce) are reported by the build itself, naming the node.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _spec_of(target):
    spec_for = getattr(target, "spec_for", None)
    if callable(spec_for):  # the spec a default build uses (no float fallback unless asked)
        try:
            return spec_for(None)
        except Exception:  # noqa: BLE001 - a plugin's own error must not break inspect
            log.debug("target %s: spec_for(None) failed", target.name, exc_info=True)
    return target.spec


def integer_placement(graph) -> dict[str, dict]:
    """``{target: {"spec", "integer", "float", "unsupported": [{"node", "op_type",
    "reason"}]}}`` for every installed target (see module docstring)."""
    from edgeq.quantize.pipeline.graph_builder import _config_problem, _is_float_activation
    from edgeq.quantize.rewrites.prepare import lower
    from edgeq.quantize.spec import allows_fallback
    from edgeq.targets import plugin_targets

    lowered = lower(graph)
    out: dict[str, dict] = {}
    for name, (_, target) in sorted(plugin_targets().items()):
        try:
            spec = _spec_of(target)
        except Exception as exc:  # noqa: BLE001
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        integer, floats, unsupported = 0, [], []
        for node in lowered.nodes:
            if not any(_is_float_activation(lowered, o) for o in node.outputs):
                continue
            if node.op_type == "Cast" and not any(lowered.tensors[i].dtype.kind == "f" for i in node.inputs if i):
                continue  # int -> float of a model input: the input boundary
            if node.domain:
                reason = f"custom domain '{node.domain}' op '{node.op_type}'"
            elif node.op_type not in spec.integer_ops:
                reason = f"no integer kernel for op type '{node.op_type}' on {name}"
            else:
                reason = _config_problem(node, lowered) or ""
            if not reason:
                integer += 1
            elif allows_fallback(spec, node.op_type):
                floats.append({"node": node.name, "op_type": node.op_type, "reason": reason})
            else:
                unsupported.append({"node": node.name, "op_type": node.op_type, "reason": reason})
        out[name] = {"spec": spec.name, "integer": integer, "float": floats, "unsupported": unsupported}
    return out
