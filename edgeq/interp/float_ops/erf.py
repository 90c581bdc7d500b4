"""Erf (ONNX Erf-13): the error function, via the float64 interpolant in ``_erf``."""

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unary_float
from edgeq.interp.float_ops._erf import erf as _erf


@FLOAT_OPS.register("Erf")
def erf(node, inputs, ctx):
    return unary_float(node, inputs, _erf)
