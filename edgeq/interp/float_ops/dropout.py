"""Dropout (ONNX Dropout-13) at inference: the output is the input and the optional
mask is all True. ``training_mode=True`` (a constant input) is not supported."""

import numpy as np

from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import optional, unsupported


@FLOAT_OPS.register("Dropout")
def dropout(node, inputs, ctx):
    x = inputs[0]
    training = optional(inputs, 2)
    if training is not None and bool(np.asarray(training).reshape(-1)[0]):
        raise unsupported(node, "training_mode=True")
    outs = [x]
    if len(node.outputs) > 1:
        outs.append(np.ones(x.shape, dtype=np.bool_))
    return outs
