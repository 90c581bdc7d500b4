"""Constant (ONNX Constant-21): the ``value`` attribute (a numpy array in the IR) or one of
``value_float(s)``/``value_int(s)``. The importer folds constants; graphs built by hand
may still contain the node."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import unsupported

_KINDS = {"value_float": np.float32, "value_floats": np.float32,
          "value_int": np.int64, "value_ints": np.int64}


@FLOAT_OPS.register("Constant")
def constant(node, inputs, ctx):
    if "value" in node.attrs:
        return [np.array(node.attrs["value"])]
    for key, dt in _KINDS.items():
        if key in node.attrs:
            return [np.array(node.attrs[key], dtype=dt)]
    raise unsupported(node, f"attributes {sorted(node.attrs)}")
