"""AveragePool (TFLite AVERAGE_POOL_2D), same scale and zero point in and out.

``reference_integer_ops::AveragePool`` (reference/integer_ops/pooling.h): the window is
clipped to the input (taps in the padding are neither summed nor counted — ONNX
``count_include_pad=0``; with ``count_include_pad=1`` the input is first padded with the
zero point, which TFLite expresses as PAD + a VALID pool), the raw integer values are summed in int64 and divided by the
tap count rounding half away from zero with C's truncating division
(``acc > 0 ? (acc + n/2) / n : (acc − n/2) / n``), then clamped to the fused activation
range. There is no requantization: TFLite requires the output to share the input's
scale and zero point, and so does this kernel.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops import _window
from edgeq.interp.integer_ops._common import (
    clamp_cast, fused_range, in_quant, out_quant, per_tensor, require_int, unsupported)
from edgeq.quantize.arith.fixed_point import c_div


def require_same_params(node, qi, qo) -> None:
    si, zi = per_tensor(node, qi, "the input")
    so, zo = per_tensor(node, qo, "the output")
    if si != so or zi != zo or qi.dtype != qo.dtype:
        raise unsupported(node, f"input ({si:.6g}, {zi}, {qi.dtype.value}) and output "
                                f"({so:.6g}, {zo}, {qo.dtype.value}) quantization must be "
                                "identical for this same-scale op (TFLite requirement)")


@INTEGER_OPS.register("AveragePool")
def average_pool(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8), np.dtype(np.int16)))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    require_same_params(node, qi, qo)
    win = _window.resolve(node, x.shape[2:], node.attrs["kernel_shape"])
    include_pad = bool(node.attrs.get("count_include_pad", 0))
    # count_include_pad=1: the padding holds the zero point (real 0) and is counted, i.e.
    # TFLite PAD(zero point) + a VALID pool
    xp = win.pad(x.astype(np.int64), int(qi.zero_point[0]) if include_pad else 0)
    ones = win.pad(np.ones((1, 1) + x.shape[2:], np.int64), 1 if include_pad else 0)
    acc = np.zeros(x.shape[:2] + win.out, np.int64)
    count = np.zeros((1, 1) + win.out, np.int64)
    for _, sl in win.taps():
        acc += xp[(slice(None), slice(None)) + sl]
        count += ones[(slice(None), slice(None)) + sl]
    half = count // 2
    y = np.where(acc > 0, c_div(acc + half, count), c_div(acc - half, count))
    lo, hi = fused_range(node, qo)
    return [clamp_cast(y, lo, hi, x.dtype)]
