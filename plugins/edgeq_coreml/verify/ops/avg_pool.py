"""avg_pool: mean over each window; with ``exclude_padding_from_average`` the
divisor counts only real (unpadded) positions; ``ceil_mode`` adds a partial last window."""

from __future__ import annotations

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._pool import pool


@OPS.register("avg_pool")
def avg_pool(op, inputs, ctx):
    return pool(inputs, "avg")
