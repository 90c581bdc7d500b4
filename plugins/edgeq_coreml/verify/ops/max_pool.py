"""max_pool: maximum over each window (padding never wins)."""

from __future__ import annotations

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._pool import pool


@OPS.register("max_pool")
def max_pool(op, inputs, ctx):
    return pool(inputs, "max")
