"""AveragePool / MaxPool / GlobalAveragePool / GlobalMaxPool (NCHW) -> MIL pooling.

ONNX AveragePool's ``count_include_pad=0`` (the default) is MIL's
``exclude_padding_from_average=True``; pads ``[t, l, b, r]`` become ``[t, b, l, r]``.
Global pools are ``reduce_mean`` / ``reduce_max`` over the spatial axes (keep dims).
"""

from __future__ import annotations

from edgeq_coreml.emit.lowering import LOWERINGS


@LOWERINGS.register("AveragePool", "MaxPool")
def lower_pool(ctx, node):
    x = ctx.value(node.inputs[0])
    kernel = [int(k) for k in node.attrs["kernel_shape"]]
    rank = len(kernel)
    pads = [int(p) for p in node.attrs.get("pads", [0] * (2 * rank))]
    if any(int(d) != 1 for d in node.attrs.get("dilations", [1] * rank)):
        raise ctx.unsupported(node, "dilated pooling has no Core ML form")
    kw = dict(x=x, kernel_sizes=kernel, strides=[int(s) for s in node.attrs.get("strides", [1] * rank)],
              pad_type="custom", pad=[v for i in range(rank) for v in (pads[i], pads[i + rank])],
              ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    if node.op_type == "AveragePool":
        y = ctx.mb.avg_pool(exclude_padding_from_average=not node.attrs.get("count_include_pad", 0), **kw)
    else:
        y = ctx.mb.max_pool(**kw)
    ctx.finish(node, y)


@LOWERINGS.register("GlobalAveragePool", "GlobalMaxPool")
def lower_global_pool(ctx, node):
    x = ctx.value(node.inputs[0])
    axes = list(range(2, len(ctx.ir(node.inputs[0]).shape)))
    fn = ctx.mb.reduce_mean if node.op_type == "GlobalAveragePool" else ctx.mb.reduce_max
    ctx.finish(node, fn(x=x, axes=axes, keep_dims=True))
