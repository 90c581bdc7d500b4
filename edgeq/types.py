"""Shared types of edgeq: frozen dataclasses and str enums used across the core and
by target plugins. Keep this module free of logic beyond validation and conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class QDType(str, Enum):
    """Integer storage types of quantized tensors."""

    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"  # 16x8 Conv/FullyConnected bias (docs/quantization.md)

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)

    @property
    def qmin(self) -> int:
        return int(np.iinfo(self.numpy).min)

    @property
    def qmax(self) -> int:
        return int(np.iinfo(self.numpy).max)


@dataclass(frozen=True, eq=False)
class QuantParams:
    """Affine quantization of one tensor: ``real = scale * (q - zero_point)``.

    ``scale``/``zero_point`` are 1-D arrays: length 1 for per-tensor, or the size of
    dimension ``axis`` for per-channel (weights). ``dtype`` is the storage type.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    dtype: QDType
    axis: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", np.atleast_1d(np.asarray(self.scale, np.float32)))
        object.__setattr__(self, "zero_point", np.atleast_1d(np.asarray(self.zero_point, np.int64)))
        object.__setattr__(self, "dtype", QDType(self.dtype))
        assert self.scale.shape == self.zero_point.shape, "scale/zero_point length mismatch"
        assert self.axis is not None or self.scale.size == 1, "per-tensor params need one scale"

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    def broadcast_shape(self, ndim: int) -> tuple[int, ...]:
        """Shape that broadcasts scale/zero_point against a tensor of rank ``ndim``."""
        if self.axis is None:
            return (1,) * ndim
        shape = [1] * ndim
        shape[self.axis] = self.scale.size
        return tuple(shape)

    def quantize(self, real: np.ndarray) -> np.ndarray:
        """Float to integer, round-half-away-from-zero like TFLite's ``TfLiteRound``."""
        real = np.asarray(real, np.float64)
        s = self.scale.astype(np.float64).reshape(self.broadcast_shape(real.ndim))
        z = self.zero_point.reshape(self.broadcast_shape(real.ndim))
        scaled = real / s
        q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + z
        return np.clip(q, self.dtype.qmin, self.dtype.qmax).astype(self.dtype.numpy)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q)
        s = self.scale.reshape(self.broadcast_shape(q.ndim))
        z = self.zero_point.reshape(self.broadcast_shape(q.ndim))
        return ((q.astype(np.int64) - z).astype(np.float32) * s).astype(np.float32)

    def to_json(self) -> dict:
        return {
            "dtype": self.dtype.value,
            "scale": [float(x) for x in self.scale],
            "zero_point": [int(x) for x in self.zero_point],
            "axis": self.axis,
        }

    @classmethod
    def from_json(cls, data: dict) -> "QuantParams":
        return cls(np.array(data["scale"], np.float32), np.array(data["zero_point"], np.int64),
                   QDType(data["dtype"]), data.get("axis"))


class ObserverKind(str, Enum):
    MINMAX = "minmax"
    PERCENTILE = "percentile"
    MSE = "mse"
    ENTROPY = "entropy"


@dataclass(frozen=True)
class QuantSpec:
    """What a target can run, which the core quantizer honours.

    * ``activation_dtypes``: storage types allowed for activations (int8 always;
      int16 for 16x8 mixed precision where the target supports it).
    * ``per_channel_ops``: op types whose weights may be quantized per output channel.
    * ``integer_ops``: op types the target runs in integer arithmetic.
    * ``float_fallback_ops``: op types the target may leave in float (reported).
    * ``fixed_output``: op type -> {dtype: (scale, zero_point)} for fixed-scale outputs.
    * ``same_scale_ops``: ops whose output shares the input's scale and zero point.
    * ``int16_ops``: op types the target runs with int16 activations (16x8).
    * ``fused_ops``: ops kept as one fused integer operator (e.g. ``"LSTM"``).
    * ``wide_in_float``: tensors the quantizer would widen to int16 stay in float.
    """

    name: str
    activation_dtypes: tuple[QDType, ...] = (QDType.INT8,)
    per_channel_ops: frozenset[str] = frozenset()
    integer_ops: frozenset[str] = frozenset()
    float_fallback_ops: frozenset[str] = frozenset()
    fixed_output: dict = field(default_factory=dict)
    same_scale_ops: frozenset[str] = frozenset()
    #: emitted activations are uint8 (zero point shifted by 128 at emit time)
    uint8_activations: bool = False
    #: op types the quantizer rewrites into simpler integer ops the target runs faster
    #: (``"HardSwish"``: MUL/ADD/MUL, edgeq/quantize/rewrites/hardswish.py)
    decompose_ops: frozenset[str] = frozenset()
    #: op types with an int16 (16x8) kernel on the target; a node asked to run in int16
    #: whose op is not listed stays int8 (logged), and ``auto_mixed`` never promotes it
    int16_ops: frozenset[str] = frozenset()
    #: ops the target runs as one fused integer operator where the core would otherwise
    #: lower them into simpler ops (``"LSTM"``: one integer sequence LSTM with an int16
    #: cell state instead of the unrolled steps, edgeq/quantize/rewrites/fuse_lstm.py)
    fused_ops: frozenset[str] = frozenset()
    #: nodes the quantizer would run in int16 (the lowering's hints, a transformer's
    #: residual stream, ``int16`` requests and ``auto_mixed`` promotions) run in float
    #: instead, where ``float_fallback_ops`` allows their op: for CPUs whose float kernels
    #: (XNNPACK) are fast and whose 16x8 kernels are reference code. An LSTM's int16 cell
    #: state is such a tensor: its steps stay unrolled (``fused_ops`` is not applied)
    wide_in_float: bool = False

    def supports_int16(self) -> bool:
        return QDType.INT16 in self.activation_dtypes


@dataclass(frozen=True)
class NodePlacement:
    """Where a target runs one node, and why if not in integer on the accelerator."""

    node: str
    op_type: str
    where: str  # "integer" | "float" | "unsupported"
    reason: str = ""
