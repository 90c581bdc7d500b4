"""Slice -> SLICE / STRIDED_SLICE, Pad -> PAD / PADV2 / MIRROR_PAD, Gather -> GATHER,
Split -> SPLIT / SPLIT_V (tensorflow/lite/kernels/slice.cc, strided_slice.cc, pad.cc,
mirror_pad.cc, gather.cc, split.cc, split_v.cc).

ONNX Slice bounds are clamped here exactly as the ONNX spec does, so the emitted
begin/size (unit steps) or begin/end/strides are always in range; a negative step
whose end runs past the front sets that axis's ``end_mask``. Quantized PAD fills with
the output zero point (real 0); a non-zero constant value uses PADV2 with the value
quantized with the tensor's own parameters.
"""

from __future__ import annotations

import numpy as np

from edgeq_tflite.emit.lowering import register
from edgeq_tflite.emit.lowering._common import opts, require_same_quant
from edgeq_tflite.emit.schema import BuiltinOperator as B, schema


def onnx_slice_bounds(shape, starts, ends, axes, steps):
    """Per-axis (begin, end, step, end_past_front) after ONNX Slice-13 clamping."""
    rank = len(shape)
    begin, end, stride = [0] * rank, list(shape), [1] * rank
    past_front = [False] * rank
    for s, e, a, st in zip(starts, ends, axes, steps):
        a = int(a) % rank
        dim = shape[a]
        s, e, st = int(s), int(e), int(st)
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        if st > 0:
            s, e = min(max(s, 0), dim), min(max(e, 0), dim)
        else:
            s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
            past_front[a] = e == -1
        begin[a], end[a], stride[a] = s, e, st
    return begin, end, stride, past_front


@register("Slice")
def lower_slice(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "SLICE")
    names = [node.inputs[k] if len(node.inputs) > k else "" for k in (1, 2, 3, 4)]
    starts, ends, axes, steps = (ctx.const(n) if n else None for n in names)
    if any(n and ctx.const(n) is None for n in names):
        raise ctx.unsupported(node, "Slice starts/ends/axes/steps must be constant")
    n = len(starts)
    axes = list(range(n)) if axes is None else list(axes)
    steps = [1] * n if steps is None else list(steps)
    begin, end, stride, past_front = onnx_slice_bounds(x.shape, starts, ends, axes, steps)
    if all(s == 1 for s in stride):
        size = [e - b for b, e in zip(begin, end)]
        ctx.op(B.SLICE, [x, ctx.int32_vector(f"{node.name}_begin", begin),
                         ctx.int32_vector(f"{node.name}_size", size)], [y], opts("SliceOptions"))
        return
    end_mask = sum(1 << a for a, p in enumerate(past_front) if p)
    end = [0 if p else e for e, p in zip(end, past_front)]
    ctx.op(B.STRIDED_SLICE, [x, ctx.int32_vector(f"{node.name}_begin", begin),
                             ctx.int32_vector(f"{node.name}_end", end),
                             ctx.int32_vector(f"{node.name}_strides", stride)], [y],
           opts("StridedSliceOptions", endMask=end_mask))


@register("Pad")
def lower_pad(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "PAD")
    pads = ctx.const(node.inputs[1])
    if pads is None:
        raise ctx.unsupported(node, "Pad amounts must be constant")
    rank = len(x.shape)
    pads = np.asarray(pads, np.int64).reshape(2, -1)
    if len(node.inputs) > 3 and node.inputs[3]:
        full = np.zeros((2, rank), np.int64)
        full[:, [int(a) % rank for a in ctx.const(node.inputs[3])]] = pads
        pads = full
    if (pads < 0).any():
        raise ctx.unsupported(node, "negative pads (cropping) have no TFLite PAD equivalent")
    paddings = ctx.constant(f"{node.name}_paddings", pads.T.astype(np.int32))
    mode = node.attrs.get("mode", "constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode == "reflect":
        ctx.op(B.MIRROR_PAD, [x, paddings], [y], opts("MirrorPadOptions", mode=schema.MirrorPadMode.REFLECT))
        return
    if mode != "constant":
        raise ctx.unsupported(node, f"Pad mode '{mode}' has no TFLite builtin")
    value = ctx.real_const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    if value is None or float(np.asarray(value).reshape(-1)[0]) == 0.0:
        ctx.op(B.PAD, [x, paddings], [y], opts("PadOptions"))
        return
    v = float(np.asarray(value).reshape(-1)[0])
    stored = y.quant.quantize(np.array([v])) if y.quant is not None else np.array([v], y.dtype)
    c = ctx.constant(f"{node.name}_value", np.asarray(stored, y.dtype).reshape(()), quant=y.quant)
    ctx.op(B.PADV2, [x, paddings, c], [y], opts("PadV2Options"))


@register("Gather")
def lower_gather(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    y = ctx.tensor(node.outputs[0])
    if x.quant is not None or y.quant is not None:
        require_same_quant(ctx, node, x, y, "GATHER")
    axis = int(node.attrs.get("axis", 0)) % len(x.shape)
    idx_const = ctx.const(node.inputs[1])
    if idx_const is not None:  # ONNX allows negative indices; TFLite does not
        idx_const = np.where(idx_const < 0, idx_const + x.shape[axis], idx_const).astype(np.int32)
        idx = ctx.constant(f"{node.name}_indices", idx_const)
    else:
        idx = ctx.tensor(node.inputs[1])
        if idx.dtype not in (np.int32, np.int64, np.int16):
            raise ctx.unsupported(node, f"GATHER indices must be int16/int32/int64, got {idx.dtype}")
    ctx.op(B.GATHER, [x, idx], [y], opts("GatherOptions", axis=axis, batchDims=0))


@register("Split")
def lower_split(ctx, node) -> None:
    x = ctx.tensor(node.inputs[0])
    outs = [ctx.tensor(o) for o in node.outputs]
    for o in outs:
        if x.quant is not None or o.quant is not None:
            require_same_quant(ctx, node, x, o, "SPLIT")
    rank = len(x.shape)
    axis = int(node.attrs.get("axis", 0)) % rank
    sizes = [o.shape[axis] for o in outs]
    axis_t = ctx.constant(f"{node.name}_axis", np.array(axis, np.int32))
    if len(set(sizes)) == 1:
        ctx.op(B.SPLIT, [axis_t, x], outs, opts("SplitOptions", numSplits=len(outs)))
    else:
        ctx.op(B.SPLIT_V, [x, ctx.int32_vector(f"{node.name}_sizes", sizes), axis_t], outs,
               opts("SplitVOptions", numSplits=len(outs)))
