"""FullyConnected -> Gemm (QNN EP: HTP ``FullyConnected``).

The IR's FullyConnected is ``Y = X @ W.T + B`` over the last axis of ``X``
(``W[out, in]``, TFLite's FULLY_CONNECTED with keep_num_dims). ONNX ``Gemm`` with
``transB=1`` is the same for a 2-D ``X``; a higher-rank ``X`` is reshaped to
``[rows, in]`` and back around it (same-scale reshapes: the integers do not change).
HTP's FullyConnected takes one weight scale (per-tensor); the QNN spec quantizes it so,
and a per-channel weight here is an error that names the node.
"""

from __future__ import annotations

import numpy as np

from edgeq.sdk import BuildError

from edgeq_qnn.emit.lowering import LOWERINGS


@LOWERINGS.register("FullyConnected")
def lower_fully_connected(ctx, node) -> None:
    x_name, w_name = node.inputs[0], node.inputs[1]
    b_name = node.inputs[2] if len(node.inputs) > 2 else ""
    w = ctx.ir(w_name)
    if w.data is None:
        raise ctx.unsupported(node, "HTP FullyConnected needs a constant weight")
    if w.quant is not None and w.quant.per_channel and w.quant.scale.size > 1:
        raise ctx.unsupported(node, f"weight '{w_name}' is quantized per channel; HTP "
                                    "FullyConnected needs per-tensor weights (quantize with the "
                                    "QNN target's spec, which has no per-channel FullyConnected)")
    x = ctx.ir(x_name)
    (out,) = node.outputs
    inputs = [ctx.value(x_name), ctx.value(w_name)]
    if b_name:
        b = ctx.ir(b_name)
        if b.data is not None and b.dtype == np.int64:
            if np.abs(b.data).max(initial=0) > np.iinfo(np.int32).max:
                raise BuildError(f"node '{node.name}': 16x8 bias '{b_name}' exceeds int32; HTP "
                                 "biases are int32 (keep this layer in int8)")
        inputs.append(ctx.value(b_name))
    n_in, n_out = x.shape[-1], w.shape[0]
    if len(x.shape) == 2:
        pre = ctx.result(out)
        ctx.add_node("Gemm", inputs, [pre], name=node.name, transB=1)
        ctx.write(node, out, pre)
        return
    rows = int(np.prod(x.shape[:-1]))
    flat = ctx.fresh(f"{x_name}__2d")
    ctx.add_node("Reshape", [inputs[0], ctx.initializer(f"{flat}__shape", np.array([rows, n_in], np.int64))],
                 [flat])
    # the Gemm's output carries the FullyConnected output's params (a same-scale reshape follows)
    y2 = ctx.fresh(f"{out}__2d_pre")
    ctx.add_node("Gemm", [flat, *inputs[1:]], [y2], name=node.name, transB=1)
    mid = _quantize_like(ctx, out, y2)
    pre = ctx.result(out)
    ctx.add_node("Reshape", [mid, ctx.initializer(f"{out}__shape", np.array(ctx.ir(out).shape, np.int64))],
                 [pre])
    ctx.write(node, out, pre)
    assert n_out == ctx.ir(out).shape[-1]


def _quantize_like(ctx, name: str, produced: str) -> str:
    """Q -> DQ of ``produced`` with IR tensor ``name``'s params (an intermediate the IR
    does not have, sharing that tensor's quantization)."""
    from edgeq_qnn.emit.qdq import qnn_params

    q = ctx.ir(name).quant
    if q is None:
        return produced
    scale, zp, dtype, _ = qnn_params(q)
    s, z = ctx._qdq_params(f"{name}__2d", scale, zp, dtype)
    qn, out = ctx.fresh(f"{name}__2d_q"), ctx.fresh(f"{name}__2d")
    ctx.add_node("QuantizeLinear", [produced, s, z], [qn])
    ctx.add_node("DequantizeLinear", [qn, s, z], [out])
    return out
