"""The float reference interpreter: runs a float :class:`~edgeq.ir.graph.Graph` with
numpy, one kernel per op (``edgeq/interp/float_ops/``).

Contract: ``run_graph(graph, feeds)`` returns the graph outputs as arrays computed with
ONNX semantics (float32 arithmetic like onnxruntime's CPU kernels; summation order may
differ, so results agree to float32 rounding, not bit for bit). ``outputs=`` may name any
tensors (intermediates, inputs or constants included) to return instead. Missing or
misshaped feeds raise :class:`~edgeq.errors.ShapeError`; an op without a kernel raises
:class:`~edgeq.errors.UnsupportedOpError` naming the op type and node.

A node's fused clamp (``act_min``/``act_max`` attrs, see :mod:`edgeq.ir.graph`) is
applied here, after the kernel, to its first output, so every kernel supports it (a
kernel that applies it itself, for speed, sets ``kernel.applies_fused_clamp = True``).
Floating-point exceptions follow IEEE 754 silently (``log(0) = -inf``, ``0/0 = NaN``), as
in onnxruntime.
"""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import apply_fused_clamp

logger = logging.getLogger(__name__)


class Context:
    """Per-run state handed to kernels (the graph, for tensor metadata)."""

    def __init__(self, graph) -> None:
        self.graph = graph


def check_feeds(graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validate feeds against the graph inputs (names, shapes); cast to the input dtype."""
    out = {}
    for name in graph.inputs:
        if name not in feeds:
            raise ShapeError(f"missing input '{name}'; the model expects inputs "
                             f"{', '.join(graph.inputs)}")
        t = graph.tensors[name]
        arr = np.asarray(feeds[name])
        if tuple(arr.shape) != t.shape:
            raise ShapeError(f"input '{name}': got shape {tuple(arr.shape)}, the model expects "
                             f"{t.shape}; reshape the data or load the model with --input "
                             f"{name}:{'x'.join(map(str, arr.shape))}")
        out[name] = arr.astype(t.dtype, copy=False)
    unknown = set(feeds) - set(graph.inputs)
    if unknown:
        raise ShapeError(f"unknown input(s) {sorted(unknown)}; the model's inputs are {graph.inputs}")
    return out


def _owns(result: np.ndarray, args: list) -> bool:
    """True if ``result`` is a fresh array the kernel allocated (safe to modify in place)."""
    return (isinstance(result, np.ndarray) and result.flags.writeable
            and not any(a is not None and np.may_share_memory(result, a) for a in args))


def run_graph(graph, feeds: Mapping[str, np.ndarray], *, outputs: list[str] | None = None,
              registry=FLOAT_OPS) -> dict[str, np.ndarray]:
    """Run ``graph`` on ``feeds``; return the tensors named in ``outputs`` (default: graph outputs)."""
    values: dict[str, np.ndarray] = dict(check_feeds(graph, feeds))
    for t in graph.constants():
        values[t.name] = t.data
    wanted = list(outputs) if outputs is not None else list(graph.outputs)
    unknown = [w for w in wanted if w not in graph.tensors]
    if unknown:
        raise ShapeError(f"graph '{graph.name}' has no tensor(s) {unknown} to return")
    ctx = Context(graph)
    # free intermediates after their last use to keep peak memory flat
    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_use[name] = i
    keep = set(wanted) | set(graph.inputs)
    with np.errstate(all="ignore"):
        for i, node in enumerate(graph.nodes):
            kernel = registry.lookup(node)
            args = [values[name] if name else None for name in node.inputs]
            results = kernel(node, args, ctx)
            if ("act_min" in node.attrs or "act_max" in node.attrs) and \
                    not getattr(kernel, "applies_fused_clamp", False):
                results[0] = apply_fused_clamp(node, results[0], inplace=_owns(results[0], args))
            for name, value in zip(node.outputs, results):
                if name:
                    values[name] = value
            for name in node.inputs:
                if name and last_use.get(name) == i and name not in keep and not graph.is_constant(name):
                    values.pop(name, None)
    return {name: values[name] for name in wanted}
