"""Integer kernels, one op per module: ports of the arithmetic of TFLite's reference
kernels (``OpResolverType.BUILTIN_REF``) on edgeq's NCHW quantized graphs.

Each module registers its kernel in INTEGER_OPS; the explicit import list below is the
registry's content. The integer meaning of each op is documented in
docs/integer-kernels.md and docs/quantization.md.
"""

from edgeq.interp.registry import OpRegistry

INTEGER_OPS = OpRegistry("integer")

# Explicit registry: one import per op module.
from edgeq.interp.integer_ops import (  # noqa: E402,F401
    add,
    arg_max,
    average_pool,
    clip,
    concat,
    conv,
    conv_transpose,
    dequantize,
    expand,
    flatten,
    fully_connected,
    gather,
    gelu,
    hard_swish,
    integer_lstm,
    identity,
    leaky_relu,
    log_softmax,
    matmul,
    max_min,
    max_pool,
    mish,
    mul,
    pad,
    quantize,
    reduce_max,
    reduce_mean,
    reduce_sum,
    reshape,
    resize,
    rsqrt,
    sigmoid,
    slice,
    softmax,
    softplus,
    split,
    squared_difference,
    squeeze,
    sub,
    tanh,
    tile,
    transpose,
    unsqueeze,
)
