"""InstanceNormalization (ONNX InstanceNormalization-6) and GroupNormalization
(ONNX GroupNormalization-18/21): normalise ``X[N, C, ...]`` per sample over the spatial
axes of each channel (instance) or of each group of ``C / num_groups`` channels, with
biased variance and ``epsilon`` (1e-5), then ``scale`` and ``bias`` per channel
(GroupNormalization-18 took them per group; both sizes are accepted). Statistics in
float64 (two-pass), as onnxruntime accumulates them in double."""

import numpy as np

from edgeq.errors import ShapeError
from edgeq.interp.float_ops import FLOAT_OPS
from edgeq.interp.float_ops._common import require_float


def _normalize(x: np.ndarray, groups: int, eps: float) -> np.ndarray:
    n, c = x.shape[:2]
    g = x.astype(np.float64).reshape(n, groups, -1)
    centered = g - g.mean(axis=2, keepdims=True)
    var = np.mean(centered * centered, axis=2, keepdims=True)
    return (centered / np.sqrt(var + eps)).reshape(x.shape)


def _affine(node, y, x, scale, bias, groups):
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    for name, v in (("scale", scale), ("bias", bias)):
        if v.size not in (c, groups):
            raise ShapeError(f"node '{node.name}' ({node.op_type}): {name} has {v.size} values for "
                             f"{c} channels in {groups} groups")
    if scale.size == groups != c:
        scale, bias = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    return (y * scale.astype(np.float64).reshape(shape) + bias.astype(np.float64).reshape(shape)).astype(x.dtype)


@FLOAT_OPS.register("InstanceNormalization")
def instance_normalization(node, inputs, ctx):
    x, scale, bias = inputs
    require_float(node, x, scale, bias)
    eps = float(node.attrs.get("epsilon", 1e-5))
    return [_affine(node, _normalize(x, x.shape[1], eps), x, scale, bias, x.shape[1])]


@FLOAT_OPS.register("GroupNormalization")
def group_normalization(node, inputs, ctx):
    x, scale, bias = inputs
    require_float(node, x, scale, bias)
    groups = int(node.attrs.get("num_groups", 1))
    if groups < 1 or x.shape[1] % groups:
        raise ShapeError(f"node '{node.name}' (GroupNormalization): {x.shape[1]} channels do not "
                         f"split into num_groups={groups}")
    eps = float(node.attrs.get("epsilon", 1e-5))
    return [_affine(node, _normalize(x, groups, eps), x, scale, bias, groups)]
