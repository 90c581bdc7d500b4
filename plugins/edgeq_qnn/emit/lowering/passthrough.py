"""IR ops that are ONNX ops with the same inputs and attributes (the IR keeps ONNX's
semantics, docs/quantization.md): the node is copied between DequantizeLinear inputs
and a QuantizeLinear output with edgeq's params. QNN EP maps each to its HTP op
(Conv2d/DepthWiseConv2d, TransposeConv2d, ElementWiseAdd …, PoolAvg2d/PoolMax2d, Softmax …)."""

from __future__ import annotations

from edgeq_qnn.emit.lowering import LOWERINGS
from edgeq_qnn.emit.qdq import EDGEQ_ATTRS

ONNX_OPS = (
    "Conv", "ConvTranspose", "Add", "Sub", "Mul", "Max", "Min",
    "AveragePool", "MaxPool", "GlobalAveragePool", "ReduceMean", "ReduceMax",
    "Softmax", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Relu", "LeakyRelu",
    "Concat", "Reshape", "Transpose", "Pad", "Slice", "Gather",
    "Squeeze", "Unsqueeze", "Flatten", "Identity", "MatMul", "Expand", "Resize", "Softplus",
)


def onnx_attrs(node) -> dict:
    out = {}
    for k, v in node.attrs.items():
        if k in EDGEQ_ATTRS:
            continue
        out[k] = v.decode() if isinstance(v, bytes) else v
    return out


@LOWERINGS.register(*ONNX_OPS)
def lower_onnx_op(ctx, node) -> None:
    inputs = [ctx.value(i) if i else "" for i in node.inputs]
    (out,) = node.outputs
    pre = ctx.result(out)
    ctx.add_node(node.op_type, inputs, [pre], name=node.name, **onnx_attrs(node))
    ctx.write(node, out, pre)


@LOWERINGS.register("Split")
def lower_split(ctx, node) -> None:
    inputs = [ctx.value(i) if i else "" for i in node.inputs]
    pres = [ctx.result(o) for o in node.outputs]
    ctx.add_node("Split", inputs, pres, name=node.name, **onnx_attrs(node))
    for o, p in zip(node.outputs, pres):
        ctx.finish(o, p)
