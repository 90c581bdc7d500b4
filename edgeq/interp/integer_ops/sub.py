"""Sub (TFLite SUB): the general quantized add arithmetic with the rescaled second input
subtracted (reference/sub.h ``SubElementwise`` / ``BroadcastQuantSubSlow``); Prepare is
``PrepareGeneralSubOp`` (kernels/sub.cc), identical to ADD's. See add.py.
"""

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops.add import add_sub


@INTEGER_OPS.register("Sub")
def sub(node, inputs, ctx):
    return add_sub(node, inputs, ctx, -1)
