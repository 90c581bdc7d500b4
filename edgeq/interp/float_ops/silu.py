"""Silu (edgeq canonical op, :mod:`edgeq.ir.ops`): ``X * sigmoid(X)`` (a.k.a. Swish)."""

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float
from edgeq.interp.float_ops.sigmoid import sigmoid_array


@FLOAT_OPS.register("Silu")
def silu(node, inputs, ctx):
    (x,) = inputs
    require_float(node, x)
    return [x * sigmoid_array(x)]
