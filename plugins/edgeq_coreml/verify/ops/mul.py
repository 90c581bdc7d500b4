"""mul(x, y): elementwise ``x * y`` with numpy broadcasting (elementwise_binary)."""

from __future__ import annotations

from edgeq_coreml.verify.ops import OPS
from edgeq_coreml.verify.ops._common import f32


@OPS.register("mul")
def mul(op, inputs, ctx):
    x, y = f32(inputs["x"]), f32(inputs["y"])
    return x * y
