"""int8 elementwise functions without a TFLite builtin (Mish, Softplus) as a table
lookup from builtins every LiteRT runs:

* ``QUANTIZE`` int8 → uint8 with the same scale and the zero point + 128: the raw
  value + 128 (quantize.cc's requantize of equal scales is that exact shift);
* ``CAST`` uint8 → int32 (cast.cc copies raw values): the table index 0..255;
* ``GATHER`` from the constant 256-entry int8 table of the function for this node's
  input and output parameters, stored with the output's quantization
  (``edgeq.sdk.int8_table``, the simulator's own table).

The artifact and the simulator index the same bytes, so they are bit-exact by
construction; the TFLite conformance case checks it on LiteRT.
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import QDType, QuantParams, int8_table

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts, unfused
from edgeq_tflite.emit.schema import BuiltinOperator as B


def _lower_table(ctx, node) -> None:
    from edgeq_tflite.emit.writer import tflite_type

    x = ctx.tensor(node.inputs[0])
    if x.quant is None:
        raise ctx.unsupported(node, f"TFLite has no float kernel for {node.op_type}; let this node "
                                    "run in int8 (a table lookup) or keep the model in float elsewhere")
    if np.dtype(x.dtype) != np.int8:
        raise ctx.unsupported(node, f"the {node.op_type} table takes int8 input; found "
                                    f"{np.dtype(x.dtype).name}")
    y, finish = unfused(ctx, node, node.outputs[0])
    if y.quant is None or np.dtype(y.dtype) != np.int8:
        raise ctx.unsupported(node, f"the {node.op_type} table writes int8; the output is "
                                    f"{np.dtype(y.dtype).name}")
    s_in, zp_in = float(x.quant.scale[0]), int(x.quant.zero_point[0])
    s_out, zp_out = float(y.quant.scale[0]), int(y.quant.zero_point[0])
    table = int8_table(node.op_type, s_in, zp_in, s_out, zp_out)
    shifted = ctx.new(f"{x.name}_as_uint8", np.uint8, x.shape,
                      QuantParams(np.asarray(x.quant.scale, np.float64), np.array([zp_in + 128]), QDType.UINT8))
    ctx.op(B.QUANTIZE, [x], [shifted])
    index = ctx.new(f"{x.name}_table_index", np.int32, x.shape)
    ctx.op(B.CAST, [shifted], [index], opts("CastOptions", inDataType=tflite_type(np.uint8),
                                             outDataType=tflite_type(np.int32)))
    values = ctx.constant(f"{node.name}_table", table.astype(np.int8), quant=y.quant)
    ctx.op(B.GATHER, [values, index], [y], opts("GatherOptions", axis=0, batchDims=0))
    finish()


register("Mish")(_lower_table)
register("Softplus")(_lower_table)
