"""Helpers shared by float kernels."""

import numpy as np


def apply_fused_clamp(node, y: np.ndarray) -> np.ndarray:
    """Apply the fused activation clamp ``act_min``/``act_max`` if the node has one."""
    lo = node.attrs.get("act_min")
    hi = node.attrs.get("act_max")
    if lo is None and hi is None:
        return y
    return np.clip(y, -np.inf if lo is None else lo, np.inf if hi is None else hi).astype(y.dtype)
