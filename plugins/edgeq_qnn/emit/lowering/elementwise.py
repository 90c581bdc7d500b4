"""Clip (standalone, bounds as inputs) and Rsqrt.

* ``Clip``: the IR's bounds are float constants in real units, or integers quantized with
  the input's params (docs/quantization.md); ONNX Clip takes real bounds.
* ``Rsqrt``: ONNX has no reciprocal square root; ``Pow(x, −0.5)`` is one op, so its
  output is rounded once with edgeq's params, like the integer RSQRT kernel.
"""

from __future__ import annotations

import numpy as np

from edgeq_qnn.emit.lowering import LOWERINGS


def _real_bound(ctx, node, i):
    name = node.inputs[i] if len(node.inputs) > i else ""
    if not name:
        return None
    v = ctx.const(name)
    if v is None:
        raise ctx.unsupported(node, f"clip bound '{name}' must be a constant")
    v = np.ravel(v)[0]
    if np.asarray(v).dtype.kind == "f":
        return float(v)
    q = ctx.ir(node.inputs[0]).quant
    return float(np.float32(q.scale[0]) * np.float32(int(v) - int(q.zero_point[0])))


@LOWERINGS.register("Clip")
def lower_clip(ctx, node) -> None:
    lo, hi = _real_bound(ctx, node, 1), _real_bound(ctx, node, 2)
    (out,) = node.outputs
    pre = ctx.result(out)
    lo_n = ctx.initializer(f"{out}__min", np.float32(-np.inf if lo is None else lo))
    hi_n = ctx.initializer(f"{out}__max", np.float32(np.inf if hi is None else hi))
    ctx.add_node("Clip", [ctx.value(node.inputs[0]), lo_n, hi_n], [pre], name=node.name)
    ctx.write(node, out, pre)


@LOWERINGS.register("Rsqrt")
def lower_rsqrt(ctx, node) -> None:
    (out,) = node.outputs
    pre = ctx.result(out)
    ctx.add_node("Pow", [ctx.value(node.inputs[0]), ctx.initializer(f"{out}__exponent", np.float32(-0.5))],
                 [pre], name=node.name)
    ctx.write(node, out, pre)
