"""Einsum (ONNX Einsum-12): ``numpy.einsum`` with the node's ``equation``, in float32
(products and sums of the same terms as onnxruntime; its batch-matmul decomposition
sums in another order). Exporters write attention as Einsum (``bhqd,bhkd->bhqk``)."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import attr_str, require_float


@FLOAT_OPS.register("Einsum")
def einsum(node, inputs, ctx):
    require_float(node, *inputs)
    equation = attr_str(node, "equation", "").replace(" ", "")
    try:
        return [np.einsum(equation, *inputs, optimize=len(inputs) > 2).astype(inputs[0].dtype, copy=False)]
    except ValueError as exc:
        raise ShapeError(f"node '{node.name}' (Einsum): equation '{equation}' does not fit inputs "
                         f"{[tuple(i.shape) for i in inputs]}: {exc}") from None
