"""FullyConnected -> Gemm (HTP ``FullyConnected``) or a 1×1 Conv (HTP ``Conv2d``).

The IR's FullyConnected is ``Y = X @ W.T + B`` over the last axis of ``X``
(``W[out, in]``, TFLite's FULLY_CONNECTED with keep_num_dims).

* per-tensor weights: ONNX ``Gemm`` with ``transB=1``, which QNN EP maps to HTP's
  ``FullyConnected`` (one weight scale); a higher-rank ``X`` is reshaped to
  ``[rows, in]`` and back around it.
* per-channel weights (the QNN spec's default): HTP's ``FullyConnected`` has no per-axis
  weight encoding, its ``Conv2d`` does. ``X`` is reshaped to ``[1, 1, rows, in]`` and
  transposed to NCHW ``[1, in, 1, rows]`` (the rows along the width of one image),
  ``W`` is stored as the filter ``[out, in, 1, 1]`` with per-axis scales on axis 0 and
  the int32 bias per axis with ``s_in · s_w[c]``; the Conv's ``[1, out, 1, rows]`` is
  transposed and reshaped back. For every output the sum is the
  same ``Σ_k x[r, k] · w[c, k]`` with the same accumulator and one requantization with
  channel ``c``'s multiplier, which is what edgeq's integer FullyConnected computes
  with per-channel weights (TFLite's ``fully_connected.cc`` per-channel path).

Reshapes and transposes are same-scale: each is between a DequantizeLinear and a
QuantizeLinear with the same params, so the integers do not change.
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
    if b_name:
        b = ctx.ir(b_name)
        if b.data is not None and b.dtype == np.int64:
            if np.abs(b.data).max(initial=0) > np.iinfo(np.int32).max:
                raise BuildError(f"node '{node.name}': 16x8 bias '{b_name}' exceeds int32; HTP "
                                 "biases are int32 (keep this layer in int8)")
    if is_per_channel(w):
        _as_conv_1x1(ctx, node, x_name, w_name, b_name)
    else:
        _as_gemm(ctx, node, x_name, w_name, b_name)


def is_per_channel(w) -> bool:
    """Whether a FullyConnected weight has one scale per output row (emitted as a Conv)."""
    return w.quant is not None and w.quant.per_channel and w.quant.scale.size > 1


def _as_gemm(ctx, node, x_name: str, w_name: str, b_name: str) -> None:
    x = ctx.ir(x_name)
    (out,) = node.outputs
    inputs = [ctx.value(x_name), ctx.value(w_name)] + ([ctx.value(b_name)] if b_name else [])
    n_in = x.shape[-1]
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


def _as_conv_1x1(ctx, node, x_name: str, w_name: str, b_name: str) -> None:
    x, w = ctx.ir(x_name), ctx.ir(w_name)
    (out,) = node.outputs
    n_out, n_in = int(w.shape[0]), int(w.shape[1])
    rows = int(np.prod(x.shape[:-1]))
    # rows along the image width of one batch item: [1, 1, rows, in] is the NHWC layout
    # HTP's Conv2d works in, and the transposes to/from ONNX's NCHW cancel with the ones
    # QNN EP's layout transformation inserts (rows as batch items run ~25x slower on the
    # emulator, measured on MiniLM)
    x_nhwc = _same_scale(ctx, "Reshape", x_name, ctx.value(x_name), "nhwc",
                         ctx.initializer(f"{x_name}__nhwc_shape", np.array([1, 1, rows, n_in], np.int64)))
    x_nchw = _same_scale(ctx, "Transpose", x_name, x_nhwc, "nchw", perm=[0, 3, 1, 2])
    inputs = [x_nchw, ctx.value(w_name, (n_out, n_in, 1, 1))] + ([ctx.value(b_name)] if b_name else [])
    y4 = ctx.fresh(f"{out}__nchw_pre")
    ctx.add_node("Conv", inputs, [y4], name=node.name, kernel_shape=[1, 1], strides=[1, 1],
                 pads=[0, 0, 0, 0], group=1)
    y_nchw = _quantize_like(ctx, out, y4, "nchw")
    y_nhwc = _same_scale(ctx, "Transpose", out, y_nchw, "nhwc", perm=[0, 2, 3, 1])
    pre = ctx.result(out)
    ctx.add_node("Reshape", [y_nhwc, ctx.initializer(f"{out}__shape", np.array(ctx.ir(out).shape, np.int64))],
                 [pre])
    ctx.write(node, out, pre)


def _same_scale(ctx, op: str, name: str, x: str, tag: str, *extra_inputs, **attrs) -> str:
    """``op`` (a reshape or transpose) of ``x`` followed by Q -> DQ with IR tensor
    ``name``'s params: QNN EP groups it into one quantized HTP op that moves integers."""
    y = ctx.fresh(f"{name}__{tag}_pre")
    ctx.add_node(op, [x, *extra_inputs], [y], **attrs)
    return _quantize_like(ctx, name, y, tag)


def _quantize_like(ctx, name: str, produced: str, tag: str = "2d") -> str:
    """Q -> DQ of ``produced`` with IR tensor ``name``'s params (an intermediate the IR
    does not have, sharing that tensor's quantization)."""
    from edgeq_qnn.emit.qdq import qnn_params

    q = ctx.ir(name).quant
    if q is None:
        return produced
    scale, zp, dtype, _ = qnn_params(q)
    s, z = ctx._qdq_params(f"{name}__{tag}", scale, zp, dtype)
    qn, out = ctx.fresh(f"{name}__{tag}_q"), ctx.fresh(f"{name}__{tag}")
    ctx.add_node("QuantizeLinear", [produced, s, z], [qn])
    ctx.add_node("DequantizeLinear", [qn, s, z], [out])
    return out
