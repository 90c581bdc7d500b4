"""IsNaN / IsInf (ONNX IsNaN-13, IsInf-10): elementwise tests of a float tensor, a bool
result. IsInf's ``detect_positive`` / ``detect_negative`` (default 1) select the sign.

Current transformers exports guard the attention softmax with
``Where(IsNaN(p), 0, p)`` (rows whose every position is masked); the lowering for
integer targets removes that guard (``edgeq/ir/passes/lower_nan_guard.py``)."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.registry import dtype_error


@FLOAT_OPS.register("IsNaN")
def is_nan(node, inputs, ctx):
    (x,) = inputs
    if x.dtype.kind != "f":
        raise dtype_error(node, "expects a float tensor", inputs)
    return [np.isnan(x)]


@FLOAT_OPS.register("IsInf")
def is_inf(node, inputs, ctx):
    (x,) = inputs
    if x.dtype.kind != "f":
        raise dtype_error(node, "expects a float tensor", inputs)
    pos, neg = int(node.attrs.get("detect_positive", 1)), int(node.attrs.get("detect_negative", 1))
    return [np.isinf(x) & ((x > 0) & bool(pos) | (x < 0) & bool(neg))]
