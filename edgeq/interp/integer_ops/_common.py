"""Helpers shared by the integer kernels: quantization parameters of a node's tensors,
storage ranges, fused-activation clamps and the errors kernels raise.

A kernel derives everything it needs from ``graph.tensors[name].quant`` (like TFLite's
``Prepare``); these helpers read those parameters the way the TFLite kernels read
``TfLiteTensor::params`` (float32 scale, int32 zero point).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from edgeq.errors import UnsupportedOpError
from edgeq.interp.registry import dtype_error
from edgeq.quantize.arith.fixed_point import calculate_activation_range_quantized
from edgeq.types import QuantParams

INT_TYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


def unsupported(node, what: str, arrays: Sequence[np.ndarray] = ()) -> UnsupportedOpError:
    """An UnsupportedOpError naming the node, op type, what is unsupported and the dtypes."""
    if arrays:
        return dtype_error(node, what, list(arrays))
    return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {what}",
                              op_type=node.op_type, nodes=[node.name])


def quant(ctx, node, name: str) -> QuantParams:
    """The QuantParams of tensor ``name`` (an input or output of ``node``)."""
    t = ctx.graph.tensors.get(name)
    if t is None or t.quant is None:
        raise unsupported(node, f"tensor '{name}' has no quantization parameters; the integer "
                                "simulator needs scale/zero_point on every integer tensor "
                                "(see docs/quantization.md)")
    return t.quant


def in_quant(ctx, node, i: int = 0) -> QuantParams:
    return quant(ctx, node, node.inputs[i])


def out_quant(ctx, node, i: int = 0) -> QuantParams:
    return quant(ctx, node, node.outputs[i])


def per_tensor(node, q: QuantParams, role: str) -> tuple[np.float32, int]:
    """``(scale, zero_point)`` of a per-tensor QuantParams (TFLite's ``params``)."""
    if q.scale.size != 1:
        raise unsupported(node, f"{role} must be quantized per tensor, found {q.scale.size} "
                                f"scales along axis {q.axis}")
    return np.float32(q.scale[0]), int(q.zero_point[0])


def storage_range(dtype) -> tuple[int, int]:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def fused_range(node, q: QuantParams) -> tuple[int, int]:
    """Output clamp: storage range intersected with the node's fused ``act_min``/``act_max``
    (``CalculateActivationRangeQuantized``, kernel_util.cc)."""
    scale, zp = per_tensor(node, q, "the output")
    qmin, qmax = storage_range(q.dtype.numpy)
    return calculate_activation_range_quantized(node.attrs.get("act_min"), node.attrs.get("act_max"),
                                                float(scale), zp, qmin, qmax)


def clamp_cast(x: np.ndarray, lo: int, hi: int, dtype) -> np.ndarray:
    """``static_cast<T>(std::min(std::max(x, lo), hi))``."""
    return np.clip(x, lo, hi).astype(dtype)


def require_int(node, arrays: Sequence[np.ndarray], allowed=INT_TYPES) -> None:
    """Raise UnsupportedOpError unless every array has an allowed integer dtype."""
    for a in arrays:
        if a is not None and a.dtype not in allowed:
            raise unsupported(node, f"expects {'/'.join(str(d) for d in allowed)} inputs", arrays)


def require_same_dtype(node, x: np.ndarray, q: QuantParams, role: str = "output") -> None:
    if x.dtype != q.dtype.numpy:
        raise unsupported(node, f"input dtype {x.dtype} and {role} dtype {q.dtype.value} "
                                "must match for this op", [x])


def require_symmetric_int16(node, x: np.ndarray, *qs: QuantParams) -> None:
    """TFLite's 16x8 kernels require zero points of 0 (``TF_LITE_ENSURE_EQ(zero_point, 0)``)."""
    if x.dtype == np.int16 and any(int(q.zero_point[0]) != 0 for q in qs):
        raise unsupported(node, "int16 tensors must be symmetric (zero point 0), as TFLite's "
                                "16x8 kernels require", [x])


def require_bias_dtype(node, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> None:
    """Conv/FullyConnected bias types TFLite takes: int32 with int8 activations, int32 or
    int64 with int16 (16x8) activations (kernels/conv.cc, fully_connected.cc Prepare)."""
    if b is not None and not ((x.dtype == np.int8 and b.dtype == np.int32)
                              or (x.dtype == np.int16 and b.dtype in (np.int32, np.int64))):
        raise unsupported(node, "bias must be int32 (int8 activations) or int32/int64 "
                                "(int16 activations)", [x, w, b])


def prepared(ctx, node, fn: Callable[[], object]):
    """Cache ``fn()`` (a kernel's Prepare step: multipliers, LUTs) per node for this run."""
    cache = getattr(ctx, "cache", None)
    if cache is None:
        return fn()
    key = (node.name, node.op_type)
    if key not in cache:
        cache[key] = fn()
    return cache[key]


def const_input(ctx, node, i: int, what: str) -> np.ndarray | None:
    """The constant value of optional input ``i`` (None if omitted); error if not constant."""
    if i >= len(node.inputs) or not node.inputs[i]:
        return None
    data = ctx.graph.const(node.inputs[i])
    if data is None:
        raise unsupported(node, f"{what} (input {i}, '{node.inputs[i]}') must be a constant")
    return np.asarray(data)


def axes_input(ctx, node, i: int, rank: int) -> list[int] | None:
    """Normalised non-negative axes from a constant axes input (None when omitted)."""
    data = const_input(ctx, node, i, "axes")
    if data is None:
        return None
    return sorted(int(a) % rank for a in np.atleast_1d(data))
