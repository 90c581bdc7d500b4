"""Identity (ONNX Identity-21): the input itself (arrays are never mutated in place)."""

from edgeq.interp.float_ops import FLOAT_OPS


@FLOAT_OPS.register("Identity")
def identity(node, inputs, ctx):
    return [inputs[0]]
