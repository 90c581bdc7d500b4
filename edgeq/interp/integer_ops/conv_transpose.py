"""ConvTranspose (TFLite TRANSPOSE_CONV), int8 activations, per-channel int8 weights.

Arithmetic of ``reference_integer_ops::TransposeConv``
(kernels/internal/reference/integer_ops/transpose_conv.h):

* an int32 scratch output starts at 0; every input pixel adds
  ``(x − zp_in) · w`` to the output positions ``i·stride − pad + k`` that fall inside
  the output (positions in the padding are dropped);
* per output position and channel: ``acc = scratch + bias[c]``, then
  ``MultiplyByQuantizedMultiplier(acc, M0[c], shift[c])`` (per-channel multipliers of
  ``PopulateConvolutionQuantizationParams``, as for CONV_2D), ``+ zp_out`` and the
  fused activation clamp.

edgeq's node is the ONNX form (NCHW, ``W[C_in, C_out, kH, kW]``, per-channel scales on
axis 1); cropping the full scatter at ``pads_begin`` is the kernel's ``− pad``. The sum
is an exact integer in float64 (products below 2^15, far fewer than 2^38 terms) and
wraps as the C ``int32_t`` accumulator does.
"""

import numpy as np

from edgeq.interp.float_ops.conv_transpose import crop, scatter_taps, transpose_geometry
from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (clamp_cast, fused_range, in_quant, out_quant, prepared,
                                              require_int, unsupported)
from edgeq.interp.integer_ops.conv import channel_multipliers, requantize_acc


@INTEGER_OPS.register("ConvTranspose")
def conv_transpose(node, inputs, ctx):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    require_int(node, [x], (np.dtype(np.int8),))
    require_int(node, [w], (np.dtype(np.int8),))
    if b is not None and b.dtype != np.int32:
        raise unsupported(node, "bias must be int32 with int8 activations", [x, w, b])
    if int(node.attrs.get("group", 1)) != 1 or x.ndim != 4:
        raise unsupported(node, "only ungrouped 2-D transposed convolution has an integer kernel")
    qx, qw, qo = in_quant(ctx, node, 0), in_quant(ctx, node, 1), out_quant(ctx, node)
    if qo.dtype.numpy != x.dtype:
        raise unsupported(node, f"output dtype {qo.dtype.value} must equal the input dtype", [x, w])
    if x.shape[1] != w.shape[0]:
        raise unsupported(node, f"input channels {x.shape[1]} do not match weight {w.shape}", [x, w])
    n_out = w.shape[1]
    if qw.scale.size > 1 and qw.axis != 1:
        raise unsupported(node, f"per-channel weight scales must be on axis 1 (output "
                                f"channels), found axis {qw.axis}")
    strides, dil, begin, _, opad, out = transpose_geometry(node, x.shape[2:], w.shape[2:])
    if any(d != 1 for d in dil):
        raise unsupported(node, "TFLite TRANSPOSE_CONV has no dilation")

    def prepare():
        m, shift = channel_multipliers(node, qx, qw, qo, n_out)
        return m, shift, w.astype(np.float64), fused_range(node, qo)

    m, shift, wf, (lo, hi) = prepared(ctx, node, prepare)
    n, c = x.shape[:2]
    kernel = tuple(w.shape[2:])
    xi = x.astype(np.float64) - int(qx.zero_point[0])
    # [M·K, C] @ [N, C, P] -> [N, M·K, P]: every tap's product, then the scatter
    cols = np.matmul(wf.reshape(c, -1).T[None], xi.reshape(n, c, -1))
    cols = cols.reshape((n, n_out) + kernel + tuple(x.shape[2:]))
    acc = crop(scatter_taps(cols, x.shape[2:], kernel, strides, dil, opad), begin, out)
    acc = np.rint(acc).astype(np.int64)
    if b is not None:
        acc += b.astype(np.int64).reshape(1, n_out, 1, 1)
    y = requantize_acc(acc, False, m, shift, axis=1, wrap=True) + int(qo.zero_point[0])
    return [clamp_cast(y, lo, hi, x.dtype)]
