"""Slice (ONNX Slice-13): ``starts``/``ends``/``axes``/``steps`` inputs.

Clamping follows the spec: negative values get ``dim`` added; then for ``step > 0``
starts/ends clamp to ``[0, dim]``, for ``step < 0`` starts clamp to ``[0, dim - 1]`` and
ends to ``[-1, dim - 1]`` where ``-1`` means "before index 0" (Python's ``None``).
"""

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import as_ints, normalize_axes, optional


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


@FLOAT_OPS.register("Slice")
def slice_(node, inputs, ctx):
    x, starts, ends = inputs[0], as_ints(inputs[1]), as_ints(inputs[2])
    axes = as_ints(optional(inputs, 3))
    steps = as_ints(optional(inputs, 4))
    axes = list(range(len(starts))) if axes is None else normalize_axes(node, axes, x.ndim)
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ShapeError(f"node '{node.name}' (Slice): starts/ends/axes/steps have different "
                         f"lengths {len(starts)}/{len(ends)}/{len(axes)}/{len(steps)}")
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        dim = x.shape[axis]
        if step == 0:
            raise ShapeError(f"node '{node.name}' (Slice): step 0 on axis {axis}")
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            index[axis] = slice(_clamp(start, 0, dim), _clamp(end, 0, dim), step)
        else:
            e = _clamp(end, -1, dim - 1)
            index[axis] = slice(_clamp(start, 0, dim - 1), None if e < 0 else e, step)
    return [x[tuple(index)]]
