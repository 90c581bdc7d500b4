"""Build single-operator .tflite models with LiteRT's flatbuffer object API and run them
with the reference kernels (``OpResolverType.BUILTIN_REF``).

Test-only helper: the integer kernels of edgeq are checked bit for bit against LiteRT
through it, independently of the TFLite target's emitter. Tensors are given in TFLite's
own layout (NHWC, OHWI filters); tests transpose to edgeq's NCHW themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pytest

litert = pytest.importorskip("ai_edge_litert.interpreter")
from ai_edge_litert import schema_py_generated as fb  # noqa: E402

import flatbuffers  # noqa: E402

_TYPES = {
    np.dtype(np.float32): fb.TensorType.FLOAT32,
    np.dtype(np.int8): fb.TensorType.INT8,
    np.dtype(np.uint8): fb.TensorType.UINT8,
    np.dtype(np.int16): fb.TensorType.INT16,
    np.dtype(np.int32): fb.TensorType.INT32,
    np.dtype(np.int64): fb.TensorType.INT64,
}


@dataclass
class T:
    """One tensor of the single-op model: shape, dtype, optional quantization/constant."""

    shape: Sequence[int]
    dtype: Any
    scale: Sequence[float] | float | None = None
    zero_point: Sequence[int] | int | None = None
    axis: int = 0
    data: np.ndarray | None = None
    name: str = ""
    extra: dict = field(default_factory=dict)


def _tensor(t: T, idx: int, buffers: list) -> fb.TensorT:
    out = fb.TensorT()
    out.shape = [int(d) for d in t.shape]
    out.type = _TYPES[np.dtype(t.dtype)]
    out.name = t.name or f"t{idx}"
    if t.data is not None:
        buf = fb.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(t.data, np.dtype(t.dtype)).tobytes(), np.uint8)
        buffers.append(buf)
        out.buffer = len(buffers) - 1
    else:
        out.buffer = 0
    if t.scale is not None:
        q = fb.QuantizationParametersT()
        q.scale = [float(s) for s in np.atleast_1d(t.scale)]
        zp = 0 if t.zero_point is None else t.zero_point
        q.zeroPoint = [int(z) for z in np.atleast_1d(zp)]
        if len(q.zeroPoint) == 1 and len(q.scale) > 1:
            q.zeroPoint = q.zeroPoint * len(q.scale)
        q.quantizedDimension = int(t.axis)
        out.quantization = q
    return out


def build(op: str, inputs: Sequence[T | None], outputs: Sequence[T], *, options=None,
          options_type: str | None = None, version: int = 1) -> bytes:
    """Serialize a one-operator model. ``inputs`` without ``data`` become graph inputs;
    ``None`` marks an omitted optional input (index -1)."""
    code = getattr(fb.BuiltinOperator, op)
    buffers = [fb.BufferT()]
    tensors, in_idx, graph_inputs = [], [], []
    for t in inputs:
        if t is None:
            in_idx.append(-1)
            continue
        tensors.append(_tensor(t, len(tensors), buffers))
        in_idx.append(len(tensors) - 1)
        if t.data is None:
            graph_inputs.append(len(tensors) - 1)
    out_idx = []
    for t in outputs:
        tensors.append(_tensor(t, len(tensors), buffers))
        out_idx.append(len(tensors) - 1)
    opcode = fb.OperatorCodeT()
    opcode.builtinCode = code
    opcode.deprecatedBuiltinCode = min(code, fb.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
    opcode.version = version
    oper = fb.OperatorT()
    oper.opcodeIndex = 0
    oper.inputs = in_idx
    oper.outputs = out_idx
    if options is not None:
        oper.builtinOptionsType = getattr(fb.BuiltinOptions, options_type or type(options).__name__[:-1])
        oper.builtinOptions = options
    sg = fb.SubGraphT()
    sg.tensors = tensors
    sg.inputs = graph_inputs
    sg.outputs = out_idx
    sg.operators = [oper]
    model = fb.ModelT()
    model.version = 3
    model.operatorCodes = [opcode]
    model.subgraphs = [sg]
    model.buffers = buffers
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run(model: bytes, feeds: Sequence[np.ndarray], *, reference: bool = True) -> list[np.ndarray]:
    """Run the model in LiteRT; ``reference`` selects the BUILTIN_REF kernels."""
    kw = {}
    if reference:
        kw["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_REF
    interp = litert.Interpreter(model_content=model, **kw)
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], np.ascontiguousarray(value, detail["dtype"]))
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def opts(name: str, **fields) -> Any:
    """An options object, e.g. ``opts("Conv2DOptions", padding=fb.Padding.VALID)``."""
    o = getattr(fb, name + "T")()
    for k, v in fields.items():
        setattr(o, k, v)
    return o
