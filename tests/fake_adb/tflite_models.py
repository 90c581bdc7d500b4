"""Tiny .tflite models for device tests, written with LiteRT's flatbuffer object API.

``build_mlp`` makes ``inputs`` float inputs [1, in_dim] → (ADD of all inputs) →
FULLY_CONNECTED+RELU → FULLY_CONNECTED → logits [1, classes], optionally wrapped in
QUANTIZE/DEQUANTIZE so the model's own I/O is int8. :func:`reference` evaluates the same
network with numpy, independently of any TFLite runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Mlp:
    path: Path
    input_names: list[str]
    output_name: str
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    in_quant: tuple[float, int] | None = None
    out_quant: tuple[float, int] | None = None

    def reference(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        x = sum(np.asarray(feeds[n], np.float64) for n in self.input_names)
        h = np.maximum(x @ self.w1.T.astype(np.float64) + self.b1, 0.0)
        return (h @ self.w2.T.astype(np.float64) + self.b2).astype(np.float32)


def build_mlp(path: Path, *, in_dim: int = 8, hidden: int = 16, classes: int = 5, inputs: int = 1,
              input_names: list[str] | None = None, output_name: str = "logits",
              int8_io: bool = False, seed: int = 0) -> Mlp:
    from ai_edge_litert import schema_py_generated as fb
    import flatbuffers

    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.5, (hidden, in_dim)).astype(np.float32)
    b1 = rng.normal(0, 0.1, hidden).astype(np.float32)
    w2 = rng.normal(0, 0.5, (classes, hidden)).astype(np.float32)
    b2 = rng.normal(0, 0.1, classes).astype(np.float32)
    names = input_names or [f"x{i}" for i in range(inputs)]

    buffers = [fb.BufferT()]
    tensors: list = []

    def tensor(name, shape, ttype=fb.TensorType.FLOAT32, data=None, quant=None) -> int:
        t = fb.TensorT()
        t.name, t.shape, t.type = name, list(shape), ttype
        t.buffer = 0
        if data is not None:
            b = fb.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            buffers.append(b)
            t.buffer = len(buffers) - 1
        if quant is not None:
            q = fb.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(quant[0])], [int(quant[1])]
            t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    codes, ops = [], []

    def op(builtin, ins, outs, options_type=None, options=None) -> None:
        if builtin not in codes:
            codes.append(builtin)
        o = fb.OperatorT()
        o.opcodeIndex = codes.index(builtin)
        o.inputs, o.outputs = list(ins), list(outs)
        if options is not None:
            o.builtinOptionsType, o.builtinOptions = options_type, options
        ops.append(o)

    in_quant = (0.05, 3) if int8_io else None
    out_quant = (0.6, -2) if int8_io else None
    graph_inputs, floats = [], []
    for n in names:
        if int8_io:
            q = tensor(n, [1, in_dim], fb.TensorType.INT8, quant=in_quant)
            f = tensor(f"{n}/dequant", [1, in_dim])
            op(fb.BuiltinOperator.DEQUANTIZE, [q], [f])
            graph_inputs.append(q)
            floats.append(f)
        else:
            t = tensor(n, [1, in_dim])
            graph_inputs.append(t)
            floats.append(t)
    x = floats[0]
    for i, other in enumerate(floats[1:]):
        s = tensor(f"sum{i}", [1, in_dim])
        op(fb.BuiltinOperator.ADD, [x, other], [s], fb.BuiltinOptions.AddOptions, fb.AddOptionsT())
        x = s
    fc1 = fb.FullyConnectedOptionsT()
    fc1.fusedActivationFunction = fb.ActivationFunctionType.RELU
    h = tensor("hidden/relu", [1, hidden])
    op(fb.BuiltinOperator.FULLY_CONNECTED,
       [x, tensor("w1", w1.shape, data=w1), tensor("b1", b1.shape, data=b1)], [h],
       fb.BuiltinOptions.FullyConnectedOptions, fc1)
    logits = tensor(output_name if not int8_io else "logits/float", [1, classes])
    op(fb.BuiltinOperator.FULLY_CONNECTED,
       [h, tensor("w2", w2.shape, data=w2), tensor("b2", b2.shape, data=b2)], [logits],
       fb.BuiltinOptions.FullyConnectedOptions, fb.FullyConnectedOptionsT())
    out = logits
    if int8_io:
        out = tensor(output_name, [1, classes], fb.TensorType.INT8, quant=out_quant)
        op(fb.BuiltinOperator.QUANTIZE, [logits], [out])

    sub = fb.SubGraphT()
    sub.tensors, sub.inputs, sub.outputs, sub.operators = tensors, graph_inputs, [out], ops
    sub.name = "main"
    model = fb.ModelT()
    model.version, model.subgraphs, model.buffers = 3, [sub], buffers
    model.description = "edgeq device test model"
    model.operatorCodes = []
    for c in codes:
        oc = fb.OperatorCodeT()
        oc.builtinCode = c
        oc.deprecatedBuiltinCode = min(c, 127)
        oc.version = 1
        model.operatorCodes.append(oc)
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    path = Path(path)
    path.write_bytes(bytes(b.Output()))
    return Mlp(path, names, output_name, w1, b1, w2, b2, in_quant, out_quant)
