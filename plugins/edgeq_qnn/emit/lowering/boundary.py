"""Quantize / Dequantize / Cast: the model boundary and precision converters.

* ``Quantize`` of a float graph input is the QuantizeLinear at the model's entry (HTP's
  Quantize op; QNN EP keeps it on HTP with ``offload_graph_io_quantization=0``).
* ``Quantize`` of an integer tensor (int8 -> int16 and back) is DQ -> Q, which QNN EP
  fuses into one HTP ``Convert`` (a requantization).
* ``Dequantize`` at an output is the DequantizeLinear that already follows the tensor:
  the graph output is that tensor.
"""

from __future__ import annotations

import numpy as np

from edgeq_qnn.emit.lowering import LOWERINGS


@LOWERINGS.register("Quantize")
def lower_quantize(ctx, node) -> None:
    (x,), (out,) = node.inputs[:1], node.outputs
    ctx.finish(out, ctx.value(x))


@LOWERINGS.register("Dequantize")
def lower_dequantize(ctx, node) -> None:
    (x,), (out,) = node.inputs[:1], node.outputs
    if ctx.ir(out).dtype != np.float32:
        raise ctx.unsupported(node, "Dequantize must produce float32")
    ctx.alias(out, ctx.value(x))


@LOWERINGS.register("Cast")
def lower_cast(ctx, node) -> None:
    (x,), (out,) = node.inputs[:1], node.outputs
    pre = ctx.result(out)
    ctx.add_node("Cast", [ctx.value(x)], [pre], name=node.name, to=int(node.attrs["to"]))
    ctx.finish(out, pre)
