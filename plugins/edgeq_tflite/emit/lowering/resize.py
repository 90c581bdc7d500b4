"""Resize -> RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR (tensorflow/lite/kernels/
resize_nearest_neighbor.cc, resize_bilinear.cc).

Linear: RESIZE_BILINEAR with ``align_corners`` (ONNX ``align_corners``) or
``half_pixel_centers`` (``half_pixel``, ``pytorch_half_pixel``) or neither
(``asymmetric``); its int8 kernel interpolates with 10-bit fixed-point coordinates
(edgeq/interp/integer_ops/resize_bilinear.py). Other modes are refused.

Nearest:

The builtin resizes H and W of an NHWC tensor to an int32 ``size`` ``[H_out, W_out]``;
each output index comes from ``GetNearestNeighbor``
(kernels/internal/reference/resize_nearest_neighbor.h), in float32:
``scale = in / out`` (``(in - 1) / (out - 1)`` with ``align_corners``),
``v = (o + 0.5·half_pixel_centers) · scale``, ``floor(v)`` (``TfLiteRound(v)`` with
``align_corners``), at most ``in - 1`` and, with half-pixel centers, at least 0.

ONNX has more coordinate and rounding modes than the builtin's two flags. The lowering
computes the ONNX node's source indices (``nearest_plan``) and takes the flag setting
whose indices are the same on both axes (PyTorch's ``asymmetric``/``floor`` upsampling is
the plain setting; ``half_pixel`` with ``round_prefer_ceil`` and ``tf_half_pixel_for_nn``
are half-pixel centers). Otherwise the node is refused, naming the modes. Values are
copied, so input and output must share quantization.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts, require_dtypes, require_same_quant
from edgeq_tflite.emit.schema import BuiltinOperator as B


def tflite_nearest(size_in: int, size_out: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """Source indices of RESIZE_NEAREST_NEIGHBOR on one axis (see module docstring)."""
    f32 = np.float32
    if align_corners and size_out > 1:
        scale = f32(size_in - 1) / f32(size_out - 1)
    else:
        scale = f32(size_in) / f32(size_out)
    v = (np.arange(size_out, dtype=f32) + f32(0.5 if half_pixel else 0.0)) * scale
    v = v.astype(f32)
    idx = (np.sign(v) * np.floor(np.abs(v) + f32(0.5))) if align_corners else np.floor(v)
    idx = np.minimum(idx.astype(np.int64), size_in - 1)
    return np.maximum(idx, 0) if half_pixel else idx


@register("Resize")
def lower_resize(ctx, node) -> None:
    from edgeq.sdk import nearest_plan

    mode = node.attrs.get("mode", "nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if mode == "linear":
        _bilinear(ctx, node, x, y)
        return
    if mode != "nearest":
        raise ctx.unsupported(node, f"Resize mode '{mode}' has no TFLite lowering; nearest and "
                                    "linear are supported")
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "RESIZE_NEAREST_NEIGHBOR")
    if len(x.shape) != 4:
        raise ctx.unsupported(node, f"RESIZE_NEAREST_NEIGHBOR takes 4-D NHWC tensors, got {x.shape}")
    scales = ctx.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    sizes = ctx.const(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else None
    plan = dict(nearest_plan(node, x.shape, scales, sizes))
    if set(plan) - {1, 2}:
        raise ctx.unsupported(node, "RESIZE_NEAREST_NEIGHBOR resizes only H and W")
    want = {a: plan.get(a, np.arange(x.shape[a])) for a in (1, 2)}
    for align, half in ((False, False), (False, True), (True, False)):
        if all(np.array_equal(tflite_nearest(x.shape[a], y.shape[a], align, half), want[a]) for a in (1, 2)):
            break
    else:
        ctm = node.attrs.get("coordinate_transformation_mode", "half_pixel")
        raise ctx.unsupported(node, f"nearest Resize with coordinate_transformation_mode "
                                    f"'{ctm.decode() if isinstance(ctm, bytes) else ctm}' and "
                                    f"nearest_mode '{node.attrs.get('nearest_mode', 'round_prefer_floor')}' "
                                    f"picks pixels RESIZE_NEAREST_NEIGHBOR cannot reproduce for "
                                    f"{x.shape[1:3]} -> {y.shape[1:3]}")
    size = ctx.int32_vector(f"{node.name}_size", y.shape[1:3])
    ctx.op(B.RESIZE_NEAREST_NEIGHBOR, [x, size], [y],
           opts("ResizeNearestNeighborOptions", alignCorners=align, halfPixelCenters=half))


def _bilinear(ctx, node, x, y) -> None:
    from edgeq.sdk import resize_bilinear_flags

    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "RESIZE_BILINEAR")
        require_dtypes(ctx, node, x, (np.int8,), "RESIZE_BILINEAR")
    if len(x.shape) != 4 or x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        raise ctx.unsupported(node, f"RESIZE_BILINEAR resizes H and W of 4-D NHWC tensors, got "
                                    f"{x.shape} -> {y.shape}")
    flags = resize_bilinear_flags(node)
    if flags is None:
        ctm = node.attrs.get("coordinate_transformation_mode", "half_pixel")
        raise ctx.unsupported(node, f"linear Resize with coordinate_transformation_mode "
                                    f"'{ctm.decode() if isinstance(ctm, bytes) else ctm}' has no "
                                    "RESIZE_BILINEAR equivalent (asymmetric, half_pixel, "
                                    "pytorch_half_pixel, align_corners have)")
    align, half = flags
    size = ctx.int32_vector(f"{node.name}_size", y.shape[1:3])
    ctx.op(B.RESIZE_BILINEAR, [x, size], [y],
           opts("ResizeBilinearOptions", alignCorners=align, halfPixelCenters=half))
