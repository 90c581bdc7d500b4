"""conv_transpose (iOS15/17): NCHW transposed convolution, weight ``[C_in, C_out/groups,
*k]``: every input element scatters ``x · w`` to the positions ``i·stride + t·dilation``
of a full output of ``(D_in - 1)·stride + (K - 1)·dilation + 1``, which ``pad`` (begin,
end per spatial axis, ``pad_type`` custom), ``valid`` (no crop) or ``same``
(``D_out = D_in·stride``) crops; an ``output_shape`` must agree with that size. ``bias``
per output channel. Accumulates in float64."""

from __future__ import annotations

import numpy as np

from edgeq.sdk import ArtifactError
from edgeq_coreml.verify.ops import OPS


@OPS.register("conv_transpose")
def conv_transpose(op, inputs, ctx):
    x = np.asarray(inputs["x"], np.float64)
    w = np.asarray(inputs["weight"], np.float64)
    n = w.ndim - 2
    kernel = w.shape[2:]
    strides = [int(s) for s in np.asarray(inputs.get("strides", [1] * n)).reshape(-1)]
    dil = [int(d) for d in np.asarray(inputs.get("dilations", [1] * n)).reshape(-1)]
    groups = int(inputs.get("groups", 1))
    N, C = x.shape[:2]
    co_g = w.shape[1]
    in_sp = x.shape[2:]
    full = [(i - 1) * s + (k - 1) * d + 1 for i, k, s, d in zip(in_sp, kernel, strides, dil)]
    y = np.zeros((N, groups * co_g, *full))
    xg = x.reshape(N, groups, C // groups, *in_sp)
    wg = w.reshape(groups, C // groups, co_g, *kernel)
    for tap in np.ndindex(*kernel):
        contrib = np.einsum("ngc...,gco->ngo...", xg, wg[(slice(None), slice(None), slice(None)) + tap])
        dst = (slice(None), slice(None)) + tuple(slice(t * d, t * d + (i - 1) * s + 1, s)
                                                  for t, d, i, s in zip(tap, dil, in_sp, strides))
        y[dst] += contrib.reshape(N, groups * co_g, *in_sp)
    pad_type = str(inputs.get("pad_type", "valid"))
    if pad_type == "custom":
        p = [int(v) for v in np.asarray(inputs.get("pad", [0] * 2 * n)).reshape(-1)]
        crops = [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    elif pad_type == "valid":
        crops = [(0, 0)] * n
    else:  # same: D_out = D_in * stride, the extra element cropped at the end
        crops = []
        for f, i, s in zip(full, in_sp, strides):
            total = max(f - i * s, 0)
            crops.append((total // 2, total - total // 2))
    y = y[(slice(None), slice(None)) + tuple(slice(b, f - e) for (b, e), f in zip(crops, full))]
    if inputs.get("output_shape") is not None:
        want = [int(v) for v in np.asarray(inputs["output_shape"]).reshape(-1)][-n:]
        if list(y.shape[2:]) != want:
            raise ArtifactError(f"op '{op.name}' (conv_transpose): output_shape {want} does not match "
                                f"the cropped size {list(y.shape[2:])}")
    if inputs.get("bias") is not None:
        y = y + np.asarray(inputs["bias"], np.float64).reshape(1, -1, *([1] * n))
    return y.astype(np.float32)
