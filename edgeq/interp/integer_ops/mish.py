"""Mish, int8: a 256-entry lookup table of ``x · tanh(softplus(x))`` (_table_unary.py;
TFLite has no MISH builtin, the target gathers from the same table)."""

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._table_unary import table_unary


@INTEGER_OPS.register("Mish")
def mish(node, inputs, ctx):
    return table_unary(node, inputs, ctx)
