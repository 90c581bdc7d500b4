"""What a lowering sees while the MIL program is built: IR tensors -> MIL values.

Every IR tensor is represented in the program by its **real value** (float; int32 for
index tensors such as token ids). A quantized int8 activation is written as the float
result of its op followed by ``quantize`` -> ``dequantize`` with the tensor's scale and
zero point (iOS17 ``quantize``: ``clip(round(x / scale) + zero_point)``), which is the
QDQ form Core ML's compiler maps onto the Neural Engine's int8 path. An int16 tensor
(edgeq's 16x8 mixed precision) has no Core ML type and stays fp16 (spec.py).

Constants: int8 weights (per output channel) and large int8 data constants (an
embedding table) become ``constexpr_affine_dequantize`` (iOS16+) or iOS18
``constexpr_blockwise_shift_scale``; biases and small constants become float constants
of their real value (fp16 in the saved program).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from edgeq.sdk import Graph, Node, Tensor, UnsupportedOpError

logger = logging.getLogger(__name__)

#: int8 data constants with at least this many elements stay int8 in the file
INT8_CONSTANT_MIN_SIZE = 256
#: float 2-D data constants (embedding tables) made int8 per row in weight-only mode
WEIGHT_ONLY_TABLE_MIN_SIZE = 65536


class EmitContext:
    """State of one program being built (see the module docstring).

    ``weights``: ``int8`` (quantized graph: its own int8 weights; float graph:
    symmetric per-channel int8 made here, weight-only mode), ``fp16`` or ``fp32``
    (float constants). ``weight_op``: ``affine`` (iOS16/17) or ``blockwise`` (iOS18).
    """

    def __init__(self, graph: Graph, mb, *, weights: str = "int8", weight_op: str = "affine") -> None:
        self.graph = graph
        self.mb = mb
        self.weights = weights
        self.weight_op = weight_op
        self.vars: dict[str, object] = {}
        self.quantize_ops = 0
        self.int8_weights: list[str] = []

    # -- IR queries -------------------------------------------------------------
    def ir(self, name: str) -> Tensor:
        return self.graph.tensors[name]

    def const(self, name: str) -> np.ndarray | None:
        """A constant's stored data (integers of a quantized constant), or None."""
        if not name:
            return None
        t = self.graph.tensors.get(name)
        return None if t is None or t.data is None else np.asarray(t.data)

    def real_const(self, name: str) -> np.ndarray | None:
        t = self.graph.tensors.get(name) if name else None
        if t is None or t.data is None:
            return None
        if t.quant is not None and np.asarray(t.data).dtype.kind in "iu":
            return t.quant.dequantize(np.asarray(t.data)).astype(np.float32)
        return np.asarray(t.data)

    def ints(self, name: str) -> list[int] | None:
        c = self.const(name)
        return None if c is None else [int(v) for v in np.asarray(c).reshape(-1)]

    def is_int8(self, name: str) -> bool:
        t = self.ir(name)
        return t.quant is not None and np.dtype(t.dtype) in (np.dtype(np.int8), np.dtype(np.uint8))

    def unsupported(self, node: Node, why: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"node '{node.name}' ({node.op_type}): {why}",
                                  op_type=node.op_type, nodes=[node.name])

    # -- values -------------------------------------------------------------------
    def value(self, name: str):
        """The program value of IR tensor ``name``: a MIL Var, or a numpy constant."""
        if name in self.vars:
            return self.vars[name]
        t = self.ir(name)
        if t.data is None:
            raise KeyError(f"tensor '{name}' used before it is produced")
        data = np.asarray(t.data)
        if t.quant is not None and data.dtype == np.int8 and data.size >= INT8_CONSTANT_MIN_SIZE:
            var = self._int8_constant(name, data, t.quant)
        elif self.weights == "int8" and data.dtype == np.float32 and data.ndim == 2 and \
                data.size >= WEIGHT_ONLY_TABLE_MIN_SIZE:
            # weight-only int8: a large float table (an embedding) is int8 per row too,
            # else it alone would keep MiniLM's file at half its fp16 size
            var = self._int8_constant(name, *_symmetric_per_channel(data, 0))
        else:
            real = self.real_const(name)
            var = real.astype(np.float32) if real.dtype.kind == "f" else real.astype(np.int32)
        self.vars[name] = var
        return var

    def weight(self, name: str, axis: int = 0):
        """A Conv/FullyConnected weight: int8 per output channel when ``weights == int8``."""
        t = self.ir(name)
        if t.data is None:
            return self.value(name)  # an activation operand (MatMul-like use)
        data = np.asarray(t.data)
        if t.quant is not None and data.dtype == np.int8:
            var = self._int8_constant(name, data, t.quant)
        elif self.weights == "int8" and data.dtype == np.float32 and data.ndim >= 2:
            var = self._int8_constant(name, *_symmetric_per_channel(data, axis))
        else:
            var = data.astype(np.float32)
        self.vars[name] = var
        return var

    def _int8_constant(self, name: str, data: np.ndarray, quant):
        """``constexpr_affine_dequantize`` / ``constexpr_blockwise_shift_scale`` of int8 data."""
        mb = self.mb
        scale = np.asarray(quant.scale, np.float32).reshape(-1)
        zp = np.asarray(quant.zero_point).reshape(-1)
        axis = 0 if quant.axis is None else int(quant.axis)
        self.int8_weights.append(name)
        if self.weight_op == "blockwise":
            # iOS18: scale/offset have the data's rank; one block per channel along axis
            shape = [1] * data.ndim
            shape[axis] = scale.size if scale.size > 1 else 1
            kw = {}
            if np.any(zp != 0):
                kw["offset"] = zp.astype(np.int8).reshape(shape)
            return mb.constexpr_blockwise_shift_scale(data=data.astype(np.int8),
                                                      scale=scale.reshape(shape), **kw)
        # symmetric weights (every zero point 0, docs/quantization.md): one scalar zero
        # point; a per-channel vector of zeros is a blob of its own in the weight file
        zpv = np.int8(zp[0]) if scale.size == 1 or not np.any(zp) else zp.astype(np.int8)
        sv = np.float32(scale[0]) if scale.size == 1 else scale
        return mb.constexpr_affine_dequantize(quantized_data=data.astype(np.int8), zero_point=zpv,
                                              scale=sv, axis=axis)

    # -- outputs -----------------------------------------------------------------
    def set(self, name: str, var) -> None:
        """Bind IR tensor ``name`` to ``var``, quantizing it when the IR tensor is int8."""
        t = self.ir(name)
        if self.is_int8(name):
            var = self.qdq(var, t.quant, name)
        self.vars[name] = var

    def qdq(self, var, quant, name: str):
        mb = self.mb
        scale = np.float32(quant.scale[0])
        dt = np.dtype(self.ir(name).dtype)
        zp = (np.int8 if dt == np.int8 else np.uint8)(int(quant.zero_point[0]))
        # short generated op names: an unrolled LSTM has thousands of quantize pairs, and
        # IR-derived names were a third of silero's program (docs/targets/coreml.md, "Size")
        q = mb.quantize(input=var, scale=scale, zero_point=zp, output_dtype=dt.name)
        self.quantize_ops += 1
        return mb.dequantize(input=q, scale=scale, zero_point=zp)

    def clamp(self, node: Node, var):
        """The node's fused ``act_min``/``act_max`` as relu / relu6 / clip."""
        lo, hi = node.attrs.get("act_min"), node.attrs.get("act_max")
        lo = -math.inf if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        mb = self.mb
        if (lo, hi) == (-math.inf, math.inf):
            return var
        if (lo, hi) == (0.0, math.inf):
            return mb.relu(x=var)
        if (lo, hi) == (0.0, 6.0):
            return mb.relu6(x=var)
        if hi == math.inf:
            return mb.maximum(x=var, y=np.float32(lo))
        if lo == -math.inf:
            return mb.minimum(x=var, y=np.float32(hi))
        return mb.clip(x=var, alpha=np.float32(lo), beta=np.float32(hi))

    def finish(self, node: Node, var, out: str | None = None) -> None:
        """Clamp, then bind the node's (first) output."""
        self.set(out or node.outputs[0], self.clamp(node, var))


def _n(name: str) -> str:
    """A MIL-safe op name derived from an IR tensor name."""
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return out if out and not out[0].isdigit() else "t_" + out


def _symmetric_per_channel(w: np.ndarray, axis: int):
    """Weight-only int8: symmetric per output channel, range [-127, 127] (docs/quantization.md
    "Scheme"), the scale from the channel's max |w| (round to nearest)."""
    from edgeq.sdk import QDType, QuantParams

    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    amax = np.abs(moved).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = QuantParams(scale, np.zeros(scale.size, np.int64), QDType.INT8, axis)
    return q.quantize(w), q


mil_name = _n
