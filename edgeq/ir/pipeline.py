"""The canonicalisation pipeline: the passes that turn an imported graph into the
canonical IR every later stage (calibration, quantization, targets) expects.

Contract of :func:`canonicalize`: returns a new graph (the argument is not modified)
computing the same outputs, with BatchNorm folded into convs, Identity/Dropout gone,
per-channel Adds folded into conv/FC biases, Gemm and MatMul-with-constant-weight as
FullyConnected, HardSigmoid / HardSwish / SiLU / GELU / LayerNorm recognised, and
Relu/Relu6/Clip fused into the Conv/FullyConnected producing their input. The passes
run in order, repeatedly, until none changes the graph (each rewrite removes nodes,
so this terminates); then constants are folded, dead nodes removed and the nodes put
in topological order.

Order matters where patterns overlap: BatchNorm and bias folding come before
activation fusion (a clamp must apply after the affine part), and the activation
recognisers come before fusion so that the ``Clip(x + 3, 0, 6)`` inside a hard-swish is
not mistaken for a Relu6 to fuse.
"""

from __future__ import annotations

import logging
from typing import Callable

from edgeq.ir.graph import Graph
from edgeq.ir.passes import (
    fold_batchnorm,
    fold_bias,
    fold_constants,
    fuse_activation,
    recognize_gelu,
    recognize_hardsigmoid,
    recognize_hardswish,
    recognize_layernorm,
    recognize_silu,
    remove_identity,
    rewrite_fullyconnected,
)

logger = logging.getLogger(__name__)

Pass = Callable[[Graph], bool]

#: (name, pass) in the order they run in each sweep
PASSES: list[tuple[str, Pass]] = [
    ("fold_constants", fold_constants.run),
    ("remove_identity", remove_identity.run),
    ("fold_batchnorm", fold_batchnorm.run),
    ("rewrite_fullyconnected", rewrite_fullyconnected.run),
    ("fold_bias", fold_bias.run),
    ("recognize_layernorm", recognize_layernorm.run),
    ("recognize_gelu", recognize_gelu.run),
    ("recognize_silu", recognize_silu.run),
    ("recognize_hardswish", recognize_hardswish.run),
    ("recognize_hardsigmoid", recognize_hardsigmoid.run),
    ("fuse_activation", fuse_activation.run),
]

_MAX_SWEEPS = 20


def canonicalize(graph: Graph, passes: list[tuple[str, Pass]] | None = None) -> Graph:
    """Run the canonicalisation passes to a fixed point on a copy of ``graph``."""
    g = graph.copy()
    passes = PASSES if passes is None else passes
    for sweep in range(_MAX_SWEEPS):
        changed = False
        for name, run in passes:
            if run(g):
                logger.debug("sweep %d: %s changed the graph (%d nodes)", sweep, name, len(g.nodes))
                changed = True
        if not changed:
            break
    else:  # pragma: no cover - every rewrite shrinks the graph, so this means a bug
        logger.warning("canonicalisation did not reach a fixed point after %d sweeps", _MAX_SWEEPS)
    g.remove_unused()
    g.toposort()
    return g
