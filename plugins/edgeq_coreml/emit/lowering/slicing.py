"""Slice (``slice_by_index``), Pad (``pad``), Gather (``gather``), Split (``split``) and
Resize (``upsample_nearest_neighbor`` / ``upsample_bilinear``)."""

from __future__ import annotations

import numpy as np

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("Slice")
def lower_slice(ctx, node):
    """ONNX Slice-13 bounds, clamped as the float interpreter does, as full begin/end/stride."""
    shape = [int(d) for d in ctx.ir(node.inputs[0]).shape]
    starts, ends = ctx.ints(node.inputs[1]), ctx.ints(node.inputs[2])
    if starts is None or ends is None:
        raise ctx.unsupported(node, "starts/ends must be constants")
    rank = len(shape)
    axes = ctx.ints(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else list(range(len(starts)))
    steps = ctx.ints(node.inputs[4]) if len(node.inputs) > 4 and node.inputs[4] else [1] * len(starts)
    begin, end, stride = [0] * rank, list(shape), [1] * rank
    end_mask = [False] * rank
    for s, e, a, st in zip(starts, ends, axes, steps):
        a %= rank
        dim = shape[a]
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        if st > 0:
            begin[a], end[a] = max(0, min(dim, s)), max(0, min(dim, e))
        else:
            begin[a] = max(0, min(dim - 1, s))
            e = max(-1, min(dim - 1, e))
            end[a], end_mask[a] = (e, False) if e >= 0 else (0, True)
        stride[a] = st
    x = ctx.value(node.inputs[0])
    if isinstance(x, np.ndarray):
        idx = tuple(slice(b, None if m else e, st) for b, e, st, m in zip(begin, end, stride, end_mask))
        ctx.set(node.outputs[0], x[idx])
        return
    y = ctx.mb.slice_by_index(x=x, begin=np.asarray(begin, np.int32), end=np.asarray(end, np.int32),
                              stride=np.asarray(stride, np.int32), end_mask=end_mask)
    ctx.finish(node, y)


@LOWERINGS.register("Pad")
def lower_pad(ctx, node):
    mode = node.attrs.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode not in ("constant", "reflect", "edge"):
        raise ctx.unsupported(node, f"pad mode '{mode}' has no Core ML form (constant, reflect, edge)")
    rank = len(ctx.ir(node.inputs[0]).shape)
    pads = ctx.ints(node.inputs[1])
    axes = ctx.ints(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else list(range(rank))
    width = [[0, 0] for _ in range(rank)]
    for i, a in enumerate(axes):
        width[a % rank] = [pads[i], pads[i + len(axes)]]
    if any(v < 0 for w in width for v in w):
        raise ctx.unsupported(node, "negative pads (cropping) are not lowered; use Slice")
    value = 0.0
    if len(node.inputs) > 2 and node.inputs[2]:
        value = float(ctx.real_const(node.inputs[2]).reshape(-1)[0])
    flat = np.asarray([v for w in width for v in w], np.int32)
    kw = {"constant_val": np.float32(value)} if mode == "constant" else {}
    y = ctx.mb.pad(x=ctx.value(node.inputs[0]), pad=flat, mode="replicate" if mode == "edge" else mode, **kw)
    ctx.finish(node, y)


@LOWERINGS.register("Gather")
def lower_gather(ctx, node):
    axis = int(node.attrs.get("axis", 0))
    x = ctx.value(node.inputs[0])
    idx = ctx.value(node.inputs[1])
    if isinstance(idx, np.ndarray):
        dim = ctx.ir(node.inputs[0]).shape[axis]
        idx = np.where(idx < 0, idx + dim, idx).astype(np.int32)
        if isinstance(x, np.ndarray):
            ctx.set(node.outputs[0], np.take(x, idx, axis=axis))
            return
        flat = idx.reshape(-1)
        if flat.size and np.array_equal(flat, np.arange(flat[0], flat[0] + flat.size)):
            # constant contiguous indices (an unrolled LSTM's time step): a slice, which
            # the Neural Engine runs, instead of a gather, which it is reported not to
            rank = len(ctx.ir(node.inputs[0]).shape)
            begin = [0] * rank
            end = [int(d) for d in ctx.ir(node.inputs[0]).shape]
            begin[axis % rank], end[axis % rank] = int(flat[0]), int(flat[0]) + flat.size
            part = ctx.mb.slice_by_index(x=x, begin=np.asarray(begin, np.int32),
                                         end=np.asarray(end, np.int32))
            out_shape = np.asarray([int(d) for d in ctx.ir(node.outputs[0]).shape], np.int32)
            ctx.finish(node, ctx.mb.reshape(x=part, shape=out_shape))
            return
    ctx.finish(node, ctx.mb.gather(x=x, indices=idx, axis=axis))


@LOWERINGS.register("Split")
def lower_split(ctx, node):
    axis = int(node.attrs.get("axis", 0))
    sizes = [int(ctx.ir(o).shape[axis]) for o in node.outputs]
    parts = ctx.mb.split(x=ctx.value(node.inputs[0]), split_sizes=sizes, axis=axis)
    for out, part in zip(node.outputs, parts):
        ctx.set(out, ctx.clamp(node, part))


@LOWERINGS.register("Resize")
def lower_resize(ctx, node):
    mode = node.attrs.get("mode", "nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    src = ctx.ir(node.inputs[0]).shape
    out = ctx.ir(node.outputs[0]).shape
    if len(src) != 4 or src[:2] != out[:2]:
        raise ctx.unsupported(node, "only spatial resizes of NCHW tensors are lowered")
    sh, sw = out[2] / src[2], out[3] / src[3]
    x = ctx.value(node.inputs[0])
    ctm = node.attrs.get("coordinate_transformation_mode", "half_pixel")
    ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
    if mode == "nearest":
        if sh != int(sh) or sw != int(sw):
            raise ctx.unsupported(node, "nearest resize with a non-integer scale")
        y = ctx.mb.upsample_nearest_neighbor(x=x, scale_factor_height=int(sh), scale_factor_width=int(sw))
    elif mode == "linear":
        if ctm == "align_corners":
            y = ctx.mb.upsample_bilinear(x=x, scale_factor_height=float(sh), scale_factor_width=float(sw),
                                         align_corners=True)
        elif ctm in ("half_pixel", "pytorch_half_pixel"):
            y = ctx.mb.upsample_bilinear(x=x, scale_factor_height=float(sh), scale_factor_width=float(sw),
                                         half_pixel_centers=True)
        else:
            raise ctx.unsupported(node, f"linear resize with coordinate mode '{ctm}'")
    else:
        raise ctx.unsupported(node, f"resize mode '{mode}' (nearest and linear are lowered)")
    ctx.finish(node, y)
