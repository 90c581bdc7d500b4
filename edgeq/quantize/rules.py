"""Per-op quantization rules: which inputs of a node are quantized activations, which
are weights/bias, and which are parameters that stay as they are.

The roles follow the TFLite builtin each op maps to (docs/quantization.md):

* ``data``: activations (or constants used as data, e.g. an Add operand or an
  embedding table) stored as int8/int16 with their own per-tensor params, or with the
  shared params when the op is same-scale;
* ``weight``/``bias``: Conv/FullyConnected filters (int8 symmetric, per output
  channel, axis 0 for ``W[O, I/g, kH, kW]`` and ``W[out, in]``) and int32/int64 bias;
* anything else (shapes, axes, pads, indices, Clip bounds) is a parameter, kept
  unchanged: int64 index/shape constants, float32 op parameters.

Which ops a target runs with int16 activations is the target's ``QuantSpec.int16_ops``.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL = "all"


@dataclass(frozen=True)
class OpRule:
    #: input indices quantized as activations ("all" = every input)
    data: tuple[int, ...] | str = (0,)
    weight: int | None = None
    bias: int | None = None
    #: input indices quantized with the *output's* params (e.g. Pad's constant value)
    like_output: tuple[int, ...] = ()

    def data_indices(self, n_inputs: int) -> list[int]:
        if self.data == ALL:
            return list(range(n_inputs))
        return [i for i in self.data if i < n_inputs]


_UNARY = OpRule()
_BINARY = OpRule(data=(0, 1))

RULES: dict[str, OpRule] = {
    "Conv": OpRule(data=(0,), weight=1, bias=2),
    # W[C_in, C_out/g, kH, kW]: per output channel along axis 1 (weight_axis)
    "ConvTranspose": OpRule(data=(0,), weight=1, bias=2),
    "FullyConnected": OpRule(data=(0,), weight=1, bias=2),
    "MatMul": _BINARY,
    "Add": _BINARY, "Sub": _BINARY, "Mul": _BINARY, "SquaredDifference": _BINARY,
    "Max": OpRule(data=ALL), "Min": OpRule(data=ALL),
    "AveragePool": _UNARY, "MaxPool": _UNARY, "GlobalAveragePool": _UNARY,
    "ReduceMean": _UNARY, "ReduceMax": _UNARY, "ReduceSum": _UNARY,
    "Softmax": _UNARY, "Sigmoid": _UNARY, "Tanh": _UNARY, "HardSwish": _UNARY,
    "Gelu": _UNARY, "Relu": _UNARY, "LeakyRelu": _UNARY, "Rsqrt": _UNARY,
    "Mish": _UNARY, "Softplus": _UNARY,  # int8 table lookups (integer_ops/_table_unary.py)
    "Clip": _UNARY,  # min/max stay float32 constants: the kernel clamps in real units
    "Concat": OpRule(data=ALL),
    "Reshape": _UNARY, "Transpose": _UNARY, "Flatten": _UNARY, "Identity": _UNARY,
    "Squeeze": _UNARY, "Unsqueeze": _UNARY, "Slice": _UNARY, "Split": _UNARY,
    "Expand": _UNARY, "Tile": _UNARY, "DepthToSpace": _UNARY, "SpaceToDepth": _UNARY,
    "Gather": _UNARY,  # input 1 (indices) stays int
    "Resize": _UNARY,  # roi / scales / sizes stay parameters
    "Pad": OpRule(data=(0,), like_output=(2,)),
}

#: ops whose float output range is exactly a subset of the input's, so a same-scale
#: group can take the input's range
RANGE_PRESERVING = frozenset({
    "MaxPool", "Reshape", "Transpose", "Flatten", "Identity", "Squeeze", "Unsqueeze",
    "Slice", "Split", "Expand", "Tile", "DepthToSpace", "SpaceToDepth", "Gather", "ReduceMax",
    "Resize",  # nearest copies input values; linear takes convex combinations of them
})


def rule_for(op_type: str) -> OpRule | None:
    return RULES.get(op_type)


def weight_axis(node) -> int | None:
    """The output-channel axis of a weighted node's filter, or None when its output
    channels are not one axis of the filter (grouped ConvTranspose: ``W[C_in, C_out/g,
    ...]`` holds output channel ``g·C_out/g + j`` in column ``j`` of group ``g``'s rows)."""
    if node.op_type == "ConvTranspose":
        return 1 if int(node.attrs.get("group", 1)) == 1 else None
    return 0
