"""max_pool: maximum over each window (padding never wins)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import along, f32  # noqa: F401


from edgeq_coreml.verify.ops._pool import pool  # noqa: E402


@OPS.register("max_pool")
def max_pool(op, inputs, ctx):
    return pool(inputs, "max")
