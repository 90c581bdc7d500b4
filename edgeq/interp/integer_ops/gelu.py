"""Gelu (TFLite GELU), int8: a 256-entry table (kernels/activations.cc ``GeluPrepare``,
``LUTPopulate<int8_t>``) of reference/gelu.h's float32 transforms:

* ``approximate="none"``: ``0.5f · x · erfc(x · −1/√2)`` (erfc form, no cancellation);
* ``approximate="tanh"``: ``0.5f · x · (1 + tanh(√(2/π) · (x + 0.044715f · x · x · x)))``.

TFLite has no int16 GELU.
"""

import numpy as np

from edgeq.interp.integer_ops import INTEGER_OPS
from edgeq.interp.integer_ops._common import (
    in_quant, out_quant, per_tensor, prepared, require_int, unsupported)
from edgeq.interp.integer_ops._lut import erfcf, lookup_int8, lut_int8, tanhf

_M_SQRT1_2 = np.float32(-0.70710678118654752440)       # static_cast<float>(-M_SQRT1_2)
_SQRT_2_OVER_PI = np.float32(1.12837916709551257390 * 0.70710678118654752440)  # M_2_SQRTPI*M_SQRT1_2


def gelu_f32(x):
    x = np.asarray(x, np.float32)
    return (np.float32(0.5) * x) * erfcf(x * _M_SQRT1_2)


def gelu_tanh_f32(x):
    x = np.asarray(x, np.float32)
    inner = x + ((np.float32(0.044715) * x) * x) * x
    return (np.float32(0.5) * x) * (np.float32(1.0) + tanhf(_SQRT_2_OVER_PI * inner))


@INTEGER_OPS.register("Gelu")
def gelu(node, inputs, ctx):
    x = inputs[0]
    require_int(node, [x], (np.dtype(np.int8),))
    qi, qo = in_quant(ctx, node), out_quant(ctx, node)
    if qo.dtype.numpy != np.int8:
        raise unsupported(node, f"output dtype {qo.dtype.value} must be int8", [x])
    s_in, zp_in = per_tensor(node, qi, "the input")
    s_out, zp_out = per_tensor(node, qo, "the output")
    approximate = node.attrs.get("approximate", "none")
    if isinstance(approximate, bytes):
        approximate = approximate.decode()
    fn = gelu_tanh_f32 if approximate == "tanh" else gelu_f32
    table = prepared(ctx, node, lambda: lut_int8(s_in, zp_in, s_out, zp_out, fn))
    return [lookup_int8(x, table)]
