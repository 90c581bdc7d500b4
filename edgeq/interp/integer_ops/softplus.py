"""Softplus, int8: a 256-entry lookup table of ``log(1 + e^x)`` (_table_unary.py; TFLite
has no SOFTPLUS builtin, the target gathers from the same table)."""

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._table_unary import table_unary


@INTEGER_OPS.register("Softplus")
def softplus(node, inputs, ctx):
    return table_unary(node, inputs, ctx)
