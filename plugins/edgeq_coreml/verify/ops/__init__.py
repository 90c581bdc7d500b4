"""numpy kernels of ML Program ops, one op per file, in one ``OpRegistry``.

A kernel is ``kernel(op, inputs, ctx) -> array | list[array]``: ``op`` is the pymil
operation (its ``op_type``, ``name``, output Vars), ``inputs`` maps each parameter name
of the op's definition (``coremltools/converters/mil/mil/ops/defs``) to its numpy value.
Kernels compute in float32 and return results the interpreter casts to the output
dtype the program declares (fp16 rounding; see interpreter.py).

The explicit import list below is the registry's content.
"""

from __future__ import annotations

from edgeq.sdk import OpRegistry

OPS = OpRegistry("Core ML program")

from edgeq_coreml.verify.ops import (  # noqa: E402,F401
    abs,
    add,
    avg_pool,
    batch_norm,
    cast,
    classify,
    clip,
    concat,
    constexpr_affine_dequantize,
    constexpr_blockwise_shift_scale,
    conv,
    conv_transpose,
    dequantize,
    equal,
    erf,
    exp,
    expand_dims,
    fill,
    gather,
    gelu,
    greater,
    greater_equal,
    identity,
    inverse,
    layer_norm,
    leaky_relu,
    less,
    less_equal,
    linear,
    log,
    lstm,
    matmul,
    max_pool,
    maximum,
    minimum,
    mul,
    not_equal,
    pad,
    pow,
    quantize,
    real_div,
    reduce_argmax,
    reduce_argmin,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
    relu,
    relu6,
    reshape,
    rsqrt,
    select,
    sigmoid,
    sigmoid_hard,
    silu,
    slice_by_index,
    softmax,
    softplus,
    split,
    sqrt,
    squeeze,
    sub,
    tanh,
    tile,
    transpose,
    upsample_bilinear,
    upsample_nearest_neighbor,
)
